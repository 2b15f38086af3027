# Cost of a "kick every vCPU" pass per vCPU visited against the number of
# vCPUs, one line per vCPU-array strategy (fixed, rcu, chunked, radix).
axes = "set xlabel 'vCPUs'; set ylabel 'pass time per vCPU visited (ns)'; set logscale x 2; set format x '%g'; set yrange [0:*]"
xf(x) = x
yf(y) = y
load scriptdir.'/render.gp'
