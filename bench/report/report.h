/*
 * report.html: one self-contained page that holds a whole results
 * directory for a person to read.  No network, no JavaScript: the plots are
 * inlined as SVG, the styles are in the page.  It holds the machine and run
 * metadata, the verdicts of the config's claims, for each scenario the
 * strategies ranked by their median figure (95% bootstrap interval, ratio
 * to the best and to the floor), every plot with how to read it, and the
 * cells that failed or timed out with the last lines of their logs.
 */
#ifndef DLBENCH_REPORT_H
#define DLBENCH_REPORT_H

#include <stdio.h>

struct style_table;

/* Writes <@dir>/<@file> (temporary name, renamed when complete) with the
 * plots rendered in @plotsdir (NULL or "": none) and the series colours of
 * @styles.  Returns 0, or -1 with one line on stderr. */
int report_write(const char *dir, const char *plotsdir, const struct style_table *styles,
		 const char *file);

/* @s as HTML text (&, <, >, " escaped). */
void html_text(FILE *f, const char *s);

/* The ranked tables of every scenario (report_rank.c). */
void report_rank(FILE *f, const char *dir, const struct style_table *styles);

#endif
