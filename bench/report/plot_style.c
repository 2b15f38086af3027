/* Series styles from plots/strategies.txt: see plot_style.h. */
#include "bench/report/plot_style.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/cli.h"

#include "bench/report/results.h"
#include "lib/util/rng.h"

int style_table_load(struct style_table *st, const char *scripts)
{
	char path[PATH_MAX], line[512];
	FILE *f;

	st->e = NULL;
	st->n = 0;
	if (results_pathf(path, sizeof(path), "%s/strategies.txt", scripts) ||
	    !(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		struct style_entry e = { .pt = 7 };

		if (line[0] == '#' || sscanf(line, "%95s %7s %d", e.name, e.colour, &e.pt) < 2 ||
		    e.colour[0] != '#')
			continue;
		st->e = cli_xrealloc(st->e, (st->n + 1) * sizeof(*st->e));
		st->e[st->n++] = e;
	}
	fclose(f);
	return 0;
}

void style_table_free(struct style_table *st)
{
	free(st->e);
	st->e = NULL;
	st->n = 0;
}

static const struct style_entry *find(const struct style_table *st, const char *name, size_t len)
{
	for (size_t i = 0; i < st->n; i++)
		if (strlen(st->e[i].name) == len && !strncmp(st->e[i].name, name, len))
			return &st->e[i];
	return NULL;
}

void style_lookup(const struct style_table *st, const char *name, struct plot_style *out)
{
	/* colours for names outside the table, none of them black or grey */
	static const char *const spare[] = {
		"#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd",
		"#e6550d", "#31a354", "#756bb1", "#636363", "#bd9e39", "#ad494a",
	};
	static const int spare_pt[] = { 5, 7, 9, 11, 13, 15, 4, 6, 8, 10, 12, 14 };
	const struct style_entry *e = find(st, name, strlen(name));
	const char *colon = strchr(name, ':');
	uint64_t h;

	out->dt = 1;
	if (!e && colon && (e = find(st, name, (size_t)(colon - name))))
		out->dt = 2;
	if (e) {
		snprintf(out->colour, sizeof(out->colour), "%s", e->colour);
		out->pt = e->pt;
		return;
	}
	h = 0;
	for (const char *p = name; *p; p++)
		h = rng_hash(h ^ (unsigned char)*p);
	snprintf(out->colour, sizeof(out->colour), "%s", spare[h % 12]);
	out->pt = spare_pt[(h >> 8) % 12];
}
