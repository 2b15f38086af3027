# Shared end of every plot script (loaded after it has set its axes and
# `plotcmd`): the title naming the machine and the date, the common style,
# and the two outputs, outbase.png (pngcairo) and outbase.svg.
# Variables from dlbench plot: datafile outbase nseries nextra plottitle
# machine date scriptdir.
set title sprintf("%s\n%s, %s", plottitle, machine, date)
set key outside right top Left reverse samplen 4 spacing 1.1
set grid back lc rgb '#dddddd'
set border 3
set tics nomirror
set datafile missing '?'
# twelve distinct colours, none black (black is for the reference lines)
colours = "#1f77b4 #d62728 #2ca02c #ff7f0e #9467bd #17becf #8c564b #e377c2 #7f7f7f #bcbd22 #0b3d91 #a0522d"
do for [k=1:12] { set linetype k lc rgb word(colours, k) lw 2 pt (k % 7 + 1) }
set linetype cycle 12
set terminal pngcairo noenhanced size 1150,650 font 'sans,10'
set output outbase.'.png'
@plotcmd
set terminal svg noenhanced size 1150,650 dynamic font 'sans,10'
set output outbase.'.svg'
@plotcmd
unset output
