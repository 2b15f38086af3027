/*
 * CSV output.  The files are small and all fields are numbers or plain
 * names, so a library (libcsv) would add a dependency for one quoting rule;
 * this writer quotes a field only when it holds a comma, quote or newline
 * (RFC 4180).
 */
#ifndef DLBENCH_CSV_H
#define DLBENCH_CSV_H

#include <stdio.h>

/* Writes @s as one CSV field, quoted if it needs to be. */
void csv_field(FILE *f, const char *s);

#endif
