/*
 * `dlbench run CONFIG --emit parallel|slurm`: writes, on stdout, a shell
 * script that runs the config's matrix as N shards (`run --shard I/N`, each
 * into OUT/shard-I) on other machines and then merges them (`dlbench merge
 * OUT/merged OUT/shard-*`).  The engines do the scheduling, as they are
 * meant to:
 *
 *   parallel  one GNU parallel command line: --sshlogin for the hosts (one
 *             shard at a time per host unless written N/HOST), the config
 *             sent with --transferfile and each shard's directory brought
 *             back with --return (then --cleanup), or with --shared a
 *             directory every host sees (--workdir); then the merge here.
 *   slurm     an sbatch job array of N shards, each on a whole node
 *             (--exclusive), then a merge job that waits for every one of
 *             them with --dependency=afterok.
 *
 * A shard that ends with exit status 1 ran, but some of its cells failed
 * (its cells.csv says which): the scripts count it as done, so that the
 * merge still runs and reports them.  Exit status 2 (a config or machine
 * check failed) and signals fail the shard's job.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/run/runner.h"

struct emit {
	const struct runner *r;
	const struct emit_opts *o;
	unsigned n; /* shards */
	char exe[PATH_MAX], cwd[PATH_MAX], out[PATH_MAX], extra[64];
};

/* The scripts quote nothing: paths must be plain words. */
static int plain_word(const char *what, const char *s)
{
	for (const char *p = s; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_./+-@:,=%", *p)) {
			fprintf(stderr,
				"dlbench run: --emit: %s '%s' holds '%c'; the emitted commands "
				"take plain paths (letters, digits, _ . / + - @ : , = %%)\n",
				what, s, *p);
			return -1;
		}
	return *s ? 0 : -1;
}

/* --shards, or for parallel the slots of --hosts (N/HOST: N, else 1). */
static int emit_shards(struct emit *e)
{
	const char *h = e->o->hosts;

	e->n = e->o->shards;
	while (!e->o->shards && h && *h && !strcmp(e->o->kind, "parallel")) {
		char *end;
		unsigned long k = strtoul(h, &end, 10);

		e->n += *end == '/' && k > 0 && k < 100000 ? (unsigned)k : 1;
		h = strchr(h, ',');
		h = h ? h + 1 : NULL;
	}
	if (!e->n) {
		fprintf(stderr, "dlbench run: --emit %s needs --shards N%s\n", e->o->kind,
			strcmp(e->o->kind, "parallel") ? "" : " (or --hosts)");
		return -1;
	}
	return 0;
}

static int emit_setup(struct emit *e)
{
	ssize_t k = readlink("/proc/self/exe", e->exe, sizeof(e->exe) - 1);
	char stamp[32], base[256];
	time_t t = time(NULL);

	if (emit_shards(e) || k <= 0 || !getcwd(e->cwd, sizeof(e->cwd)))
		return -1;
	e->exe[k] = 0;
	config_base(e->r->cfg.path, base, sizeof(base));
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&t));
	if (e->o->out)
		snprintf(e->out, sizeof(e->out), "%s", e->o->out);
	else
		snprintf(e->out, sizeof(e->out), "results/%s-%s-%ushards", stamp, base, e->n);
	if (e->o->max_runs != RUN_DEFAULT_MAX_RUNS)
		snprintf(e->extra, sizeof(e->extra), " --max-runs %zu", e->o->max_runs);
	if (plain_word("the dlbench path", e->exe) || plain_word("the directory", e->cwd) ||
	    plain_word("CONFIG", e->r->cfg.path) || plain_word("--out", e->out) ||
	    (e->o->hosts && plain_word("--hosts", e->o->hosts)))
		return -1;
	return 0;
}

/* --sshlogin: one shard at a time on a host unless it says N/HOST. */
static void sshlogins(FILE *f, const char *hosts)
{
	char *list = strdup(hosts), *save = NULL;
	int first = 1;

	for (char *h = strtok_r(list, ",", &save); h; h = strtok_r(NULL, ",", &save), first = 0)
		fprintf(f, "%s%s%s", first ? "" : ",", strchr(h, '/') ? "" : "1/", h);
	free(list);
}

static void emit_parallel(const struct emit *e, FILE *f)
{
	const char *hosts = e->o->hosts ? e->o->hosts : ":";

	fprintf(f,
		"# Each host runs one shard at a time (N/HOST in --hosts: N at a time) with\n"
		"# %s, which must exist there (a shared or identical install).\n",
		e->exe);
	if (e->o->shared)
		fprintf(f, "# The hosts share %s: the shards write into it directly.\n", e->cwd);
	else
		fprintf(f,
			"# The config goes to each host with --transferfile; each shard's results\n"
			"# come back with --return and are removed there (--cleanup).  On this\n"
			"# machine (`:`) parallel transfers nothing.\n");
	fprintf(f, "set -u\ncd %s || exit 2\nmkdir -p %s || exit 2\nparallel --sshlogin ", e->cwd,
		e->out);
	sshlogins(f, hosts);
	if (e->o->shared)
		fprintf(f, " --workdir %s \\\n", e->cwd);
	else
		fprintf(f, " --transferfile %s --return %s/shard-{} --cleanup \\\n", e->r->cfg.path,
			e->out);
	fprintf(f,
		"\t'mkdir -p %s && { %s run --no-plot --shard {}/%u%s --out %s/shard-{} %s; [ $? "
		"-le 1 ]; }' \\\n"
		"\t::: $(seq 0 %u)\n",
		e->out, e->exe, e->n, e->extra, e->out, e->r->cfg.path, e->n - 1);
	fprintf(f, "%s merge %s/merged %s/shard-*\n", e->exe, e->out, e->out);
}

static void emit_slurm(const struct emit *e, FILE *f)
{
	fprintf(f,
		"# Submit it from a directory every node sees (%s).  Each shard takes a\n"
		"# whole node (--exclusive): a benchmark wants no neighbours.\n",
		e->cwd);
	fprintf(f, "set -eu\ncd %s\nmkdir -p %s\n", e->cwd, e->out);
	fprintf(f,
		"shards=$(sbatch --parsable <<'DLBENCH_SHARD'\n#!/bin/sh\n"
		"#SBATCH --job-name=dlbench-shard\n#SBATCH --array=0-%u\n"
		"#SBATCH --nodes=1\n#SBATCH --ntasks=1\n#SBATCH --exclusive\n"
		"#SBATCH --output=%s/slurm-shard-%%a.log\n",
		e->n - 1, e->out);
	fprintf(f,
		"%s run --no-plot --shard \"$SLURM_ARRAY_TASK_ID/%u\"%s --out "
		"\"%s/shard-$SLURM_ARRAY_TASK_ID\" %s\n"
		"rc=$?\n[ $rc -le 1 ] && exit 0\nexit $rc\nDLBENCH_SHARD\n)\n",
		e->exe, e->n, e->extra, e->out, e->r->cfg.path);
	fprintf(f,
		"shards=${shards%%%%;*}\n"
		"merge=$(sbatch --parsable --job-name=dlbench-merge --dependency=afterok:$shards "
		"\\\n"
		"\t--ntasks=1 --output=%s/slurm-merge.log \\\n"
		"\t--wrap '%s merge %s/merged %s/shard-*')\nmerge=${merge%%%%;*}\n",
		e->out, e->exe, e->out, e->out);
	fprintf(f,
		"echo \"submitted: job array $shards (%u shards), merge job $merge; results: "
		"%s/merged\"\n",
		e->n, e->out);
}

int run_emit(const struct runner *r, const struct emit_opts *o)
{
	struct emit e = { .r = r, .o = o };
	int parallel = !strcmp(o->kind, "parallel");

	if (emit_setup(&e))
		return 2;
	if (o->shared && !parallel) {
		fprintf(stderr, "dlbench run: --shared is for --emit parallel (Slurm's nodes share "
				"the directory)\n");
		return 2;
	}
	printf("#!/bin/sh\n# %s: the matrix of %s (%zu runs in %zu scenarios) in %u shards,\n"
	       "# each `dlbench run --shard I/%u` into %s/shard-I, then `dlbench merge`\n"
	       "# into %s/merged (plots and report there).  A shard whose cells partly\n"
	       "# failed (exit 1) counts as done: merge reports them.\n",
	       parallel ? "GNU parallel" : "Slurm", r->cfg.path, matrix_runs(&r->cfg),
	       r->cfg.nscenarios, e.n, e.n, e.out, e.out);
	if (parallel)
		emit_parallel(&e, stdout);
	else
		emit_slurm(&e, stdout);
	return fflush(stdout) ? 1 : 0;
}
