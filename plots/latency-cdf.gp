# Latency CDF from the merged histograms (value_ns,count), one step line
# per series: memslot update latency per protection, SRCU grace-period
# latency against liburcu.
axes = "set xlabel 'latency (µs)'; set ylabel 'fraction of operations at or below'; set logscale x 10; set format x '%g'; set yrange [0:1.02]; set ytics 0.1"
xf(x) = x / 1000.0
yf(y) = y
cdf = 1
load scriptdir.'/render.gp'
