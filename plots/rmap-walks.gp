# rmap write-protect walks per second against the writer threads churning
# sptes, one line per walker (locked, lockless nulls, position-encoded).
set xlabel 'writer threads'
set ylabel 'walks per second (thousands)'
set format x '%g'
set xtics 1
set yrange [0:*]
xexpr = '1'
yexpr = '($2/1000.0)'
load scriptdir.'/lines.gp'
load scriptdir.'/render.gp'
