# rmap write-protect walks per second against the writer threads churning
# sptes, one line per walker (locked, lockless nulls, position-encoded).
axes = "set xlabel 'writer threads'; set ylabel 'walks per second (thousands)'; set format x '%g'; set xtics 1; set yrange [0:*]"
xf(x) = x
yf(y) = y / 1000.0
load scriptdir.'/render.gp'
