# Latency CDF from the merged histograms (value_ns,count), one step line
# per histogram name: memslot update latency per protection, SRCU
# grace-period latency against liburcu.
set xlabel 'latency (µs)'
set ylabel 'fraction of operations at or below'
set logscale x 10
set format x '%g'
set yrange [0:1.02]
set ytics 0.1
plotcmd = "plot for [i=0:nseries-1] datafile index i using ($1/1000.0):2 with steps lt (i%12+1) dt 1+i/12 lw 2 title columnheader(1)"
load scriptdir.'/render.gp'
