# get-log time against guest (or slot) size, one line per strategy, log-log.
set xlabel 'guest memory; harvest: slot size (MiB)'
set ylabel 'get-log time per harvest (µs)'
set logscale xy 2
set format y '%g'
set format x '%g'
xexpr = '($1/1048576.0)'
yexpr = '($2/1000.0)'
load scriptdir.'/lines.gp'
load scriptdir.'/render.gp'
