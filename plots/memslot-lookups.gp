# Memslot lookups per second against readers, one line per read protection,
# with the linear scaling of the best one-reader figure.
axes = "set xlabel 'readers (vCPU threads)'; set ylabel 'memslot lookups (millions per second, all readers)'; set logscale x 2; set format x '%g'; set yrange [0:*]"
xf(x) = x
yf(y) = y / 1e6
load scriptdir.'/render.gp'
