# Read-side cost of one lock/unlock pair against readers, one line per
# primitive (srcu-mb, srcu-fast, liburcu memb, rwlock, mutex, refcount).
set xlabel 'readers (threads)'
set ylabel 'read lock + unlock (ns per pair)'
set logscale x 2
set logscale y 10
set format x '%g'
set format y '%g'
xexpr = '1'
yexpr = '2'
load scriptdir.'/lines.gp'
load scriptdir.'/render.gp'
