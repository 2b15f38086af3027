/*
 * The style of a series (colour, point type, dash) from one table,
 * plots/strategies.txt, so that a strategy looks the same in every plot,
 * in the report and in every run.
 */
#ifndef DLBENCH_PLOT_STYLE_H
#define DLBENCH_PLOT_STYLE_H

#include <stddef.h>

struct plot_style {
	char colour[8]; /* #rrggbb */
	int pt;		/* gnuplot point type */
	int dt;		/* gnuplot dash type: 1 solid */
};

struct style_entry {
	char name[96];
	char colour[8];
	int pt;
};

struct style_table {
	struct style_entry *e;
	size_t n;
};

/* Reads <@scripts>/strategies.txt.  A missing or unreadable table leaves
 * an empty one (every name then takes its hashed style); returns -1 then. */
int style_table_load(struct style_table *st, const char *scripts);
void style_table_free(struct style_table *st);
/* The style of series @name: the table's, its base name's (before ':')
 * dashed, or one from a hash of the name. */
void style_lookup(const struct style_table *st, const char *name, struct plot_style *out);

#endif
