# get-log time against the share of pages dirty, one line per strategy.  The
# x axis is log(1 + percent), so that 0, 1 and 10% do not pile up at the left.
axes = "set xlabel 'pages dirty (% of the slot; dirty-log: % of accesses that write)'; set ylabel 'get-log time per harvest (µs)'; set logscale y 10; set format y '%g'; set xtics ('0' 0, '1' log10(2), '2' log10(3), '5' log10(6), '10' log10(11), '20' log10(21), '50' log10(51), '100' log10(101)); set xrange [0:log10(101)]"
xf(x) = log10(1 + x)
yf(y) = y / 1000.0
ylog = 1
xshare = 0
load scriptdir.'/render.gp'
