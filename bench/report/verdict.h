/*
 * The claims of a results directory: the `claim.NAME` sections of its
 * config.ini (bench/run/matrix.h: struct matrix_claim, each key with its
 * line) checked against the gathered results.
 */
#ifndef DLBENCH_VERDICT_H
#define DLBENCH_VERDICT_H

/*
 * Evaluates every claim of @dir's config.ini against @dir's gathered
 * results: prints one line per claim on stdout and writes them to
 * <dir>/verdict.md.  Returns the number of claims evaluated (0: none),
 * or -1 after one line on stderr.  `dlbench run` and `dlbench merge` call
 * it after gathering and plotting.
 */
int verdict_write(const char *dir);

#endif
