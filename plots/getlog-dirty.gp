# get-log time against the share of pages dirty, one line per strategy.
set xlabel 'pages dirty (% of the slot; dirty-log: % of accesses that write)'
set ylabel 'get-log time per harvest (µs)'
set logscale y 10
set xrange [0:100]
set format y '%g'
xexpr = '1'
yexpr = '($2/1000.0)'
load scriptdir.'/lines.gp'
load scriptdir.'/render.gp'
