# Memslot lookups per second against readers, one line per read protection,
# with the linear scaling of the best one-reader figure.
set xlabel 'readers (vCPU threads)'
set ylabel 'memslot lookups (millions per second, all readers)'
set logscale x 2
set format x '%g'
set yrange [0:*]
xexpr = '1'
yexpr = '($2/1e6)'
load scriptdir.'/lines.gp'
load scriptdir.'/render.gp'
