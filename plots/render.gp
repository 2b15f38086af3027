# Shared end of every plot script: it loads this file after setting
#   axes    a string of `set` commands for one panel (labels, log scales, tics)
#   xf, yf  functions from data units to axis units (ns -> us, bytes -> MiB)
#   ylog    1 when the y axis is logarithmic (shared ranges then start above 0)
#   xshare  0 when the script fixes the x range itself (percentile axes)
#   cdf     1 for step lines of a distribution (no error bars, no shared y)
# dlbench plot sets the rest in the plot's driver file (plots/<name>.gp in the
# results directory, which also re-renders the plot when run with gnuplot):
#   datafile pngout svgout plottitle machine date scriptdir keyw
#   nfacets, and per panel F (1..nfacets) facet_title_F, facet_first_F,
#     facet_nseries_F, facet_nextra_F: its blocks of the data file are
#     facet_first_F.. (series, then reference lines)
#   per block I (0..): lc_I (colour), pt_I (point type), dt_I (dash type),
#     from plots/strategies.txt, so a strategy looks the same everywhere
#   nkeys and per legend entry K: key_title_K key_lc_K key_pt_K key_ps_K key_dt_K
#   xmin xmax ymin ymax: the extent of the medians over all panels
# Panels (facets) share the y axis, which spans the medians with a margin
# (an error bar that reaches beyond is clipped at the edge, so that one wild
# repetition does not flatten every line); the legend is drawn once, at the
# right.
# Writes pngout (pngcairo) and svgout.
if (!exists("cdf")) cdf = 0
if (!exists("xshare")) xshare = 1
if (!exists("ylog")) ylog = 0

cols = nfacets < 3 ? nfacets : 3
rows = (nfacets + cols - 1) / cols
W = 80 + cols * (nfacets == 1 ? 800 : 430) + keyw
H = 75 + rows * (nfacets == 1 ? 575 : 440)
L = 80.0 / W
R = 1.0 - (keyw + 5.0) / W
T = 1.0 - 75.0 / H
pw = (R - L) / cols
ph = (T - 5.0 / H) / rows

common = "set grid back lc rgb '#dddddd'; set border 3; set tics nomirror; set datafile missing '?'; set bars small"
series_xy = "datafile index i using (xf($1)):(yf($2)):(yf($3)):(yf($4)) with yerrorlines lc rgb value(sprintf('lc_%d',i)) pt value(sprintf('pt_%d',i)) dt value(sprintf('dt_%d',i)) lw 2 ps 0.8 title columnheader(1)"
series_cdf = "datafile index i using (xf($1)):2 with steps lc rgb value(sprintf('lc_%d',i)) dt value(sprintf('dt_%d',i)) lw 2 title columnheader(1)"
refs = "datafile index j using (xf($1)):(yf($2)) with lines lc rgb 'black' dt value(sprintf('dt_%d',j)) lw 2 title columnheader(1)"
series = cdf ? series_cdf : series_xy

do for [out=1:2] {
	if (out == 1) {
		set terminal pngcairo noenhanced size W,H font 'sans,10'
		set output pngout
	} else {
		set terminal svg noenhanced size W,H font 'sans,10'
		set output svgout
	}
	set multiplot title sprintf("%s\n%s, %s", plottitle, machine, date)
	do for [f=1:nfacets] {
		reset
		eval common
		eval axes
		c = (f - 1) % cols
		r = (f - 1) / cols
		set lmargin at screen L + c * pw + (c > 0 ? 8.0 / W : 0)
		set rmargin at screen L + (c + 1) * pw - 12.0 / W
		set tmargin at screen T - r * ph - (nfacets > 1 ? 22.0 / H : 0)
		set bmargin at screen T - (r + 1) * ph + 50.0 / H
		unset key
		if (!cdf && ylog && ymin > 0) { set yrange [yf(ymin) / 1.5 : yf(ymax) * 1.5] }
		if (!cdf && !ylog && ymax > 0) { set yrange [(ymin < 0 ? yf(ymin) : 0) : yf(ymax) * 1.15] }
		if (nfacets > 1) {
			set title value(sprintf('facet_title_%d', f))
			if (xshare && xmax > xmin) { set xrange [xf(xmin) : xf(xmax)] }
			if (c > 0) { set format y ''; unset ylabel }
		}
		first = value(sprintf('facet_first_%d', f))
		ns = value(sprintf('facet_nseries_%d', f))
		ne = value(sprintf('facet_nextra_%d', f))
		if (ne > 0) {
			plot for [i=first:first+ns-1] @series, for [j=first+ns:first+ns+ne-1] @refs
		} else {
			plot for [i=first:first+ns-1] @series
		}
	}
	# the legend, once for every panel: invisible lines with the styles
	reset
	set lmargin at screen R + 5.0 / W
	set rmargin at screen 1.0 - 5.0 / W
	set tmargin at screen T - (nfacets > 1 ? 22.0 / H : 0)
	set bmargin at screen 5.0 / H
	unset border
	unset tics
	set xrange [0:1]
	set yrange [0:1]
	set key inside left top Left reverse samplen 4 spacing 1.15
	plot for [k=1:nkeys] 2 with linespoints lc rgb value(sprintf('key_lc_%d',k)) pt value(sprintf('key_pt_%d',k)) ps value(sprintf('key_ps_%d',k)) dt value(sprintf('key_dt_%d',k)) lw 2 title value(sprintf('key_title_%d',k))
	unset multiplot
	unset output
}
