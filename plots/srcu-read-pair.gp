# Read-side cost of one lock/unlock pair against readers, one line per
# primitive (srcu-mb, srcu-fast, liburcu memb, rwlock, mutex, refcount).
axes = "set xlabel 'readers (threads)'; set ylabel 'read lock + unlock (ns per pair)'; set logscale x 2; set logscale y 10; set format x '%g'; set format y '%g'"
xf(x) = x
yf(y) = y
ylog = 1
load scriptdir.'/render.gp'
