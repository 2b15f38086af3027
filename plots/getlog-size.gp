# get-log time against guest (or slot) size, one line per strategy, log-log.
axes = "set xlabel 'guest memory; harvest: slot size (MiB)'; set ylabel 'get-log time per harvest (µs)'; set logscale x 2; set logscale y 10; set format y '%g'; set format x '%g'"
xf(x) = x / 1048576.0
yf(y) = y / 1000.0
ylog = 1
load scriptdir.'/render.gp'
