# vCPU stall percentile spectrum from continuous harvesting: the stall
# (fault path plus waiting at a kick) at each percentile, per strategy.
axes = "set xlabel 'percentile'; set ylabel 'vCPU stall (µs)'; set logscale xy 10; set format y '%g'; set xrange [1.5:150000]; set xtics ('p50' 2, 'p90' 10, 'p99' 100, 'p99.9' 1000, 'p99.99' 10000, 'max' 100000)"
xf(x) = x
yf(y) = y / 1000.0
ylog = 1
xshare = 0
load scriptdir.'/render.gp'
