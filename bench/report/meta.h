/*
 * meta.json: what machine and which build produced a result directory.
 */
#ifndef DLBENCH_META_H
#define DLBENCH_META_H

#include <stdio.h>

/* Writes <dir>/meta.json: suite version, exact command (the whole command
 * line set by main in cli_full_argv, else @argc/@argv), date, host, kernel,
 * CPU model and hwloc topology, NUMA nodes, THP and hugetlb settings, and
 * @extra (NULL or `"key": value, ...` pairs without braces) for the
 * workload's own facts.  Returns -1 with a message on error. */
int meta_write(const char *dir, int argc, char **argv, const char *workload, const char *extra);

/* Writes @s as a JSON string literal. */
void json_string(FILE *f, const char *s);

#endif
