# Dirty-pass time (every vCPU writes its region once) against vCPUs, one
# line per strategy, with the floor: the same loop with tracking off.
axes = "set xlabel 'vCPUs (threads)'; set ylabel 'dirty-pass time (ms)'; set logscale x 2; set format x '%g'; set logscale y 10; set format y '%g'"
xf(x) = x
yf(y) = y / 1e6
load scriptdir.'/render.gp'
