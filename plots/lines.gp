# The plot command of the line plots: `nseries` measured series (data
# blocks whose first line is the title), then `nextra` dashed black
# reference lines.  Expects xexpr and yexpr, the `using` expressions.
# Past twelve series the colours repeat with a new dash pattern.
plotcmd = "plot for [i=0:nseries-1] datafile index i using ".xexpr.":".yexpr." with linespoints lt (i%12+1) dt 1+i/12 lw 2 pt 7 ps 0.7 title columnheader(1)"
if (nextra > 0) {
	plotcmd = plotcmd.", for [j=nseries:nseries+nextra-1] datafile index j using ".xexpr.":".yexpr." with lines dt 2+j-nseries lw 2 lc rgb 'black' title columnheader(1)"
}
