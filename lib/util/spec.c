/* Strategy specs: see spec.h. */
#include "lib/util/spec.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int spec_parse(const char *spec, char *name, size_t namelen, spec_option_fn fn, void *arg,
	       char *err, size_t errlen)
{
	char buf[SPEC_MAX];
	char *opts, *save = NULL;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "'%.40s...' is too long", spec);
		return -EINVAL;
	}
	strcpy(buf, spec);
	opts = strchr(buf, ':');
	if (opts)
		*opts++ = 0;
	if (!buf[0] || strlen(buf) >= namelen) {
		snprintf(err, errlen, "'%s' does not start with a name", spec);
		return -EINVAL;
	}
	strcpy(name, buf);
	for (char *kv = opts ? strtok_r(opts, ",", &save) : NULL; kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *val = strchr(kv, '=');

		if (!val || !fn) {
			snprintf(err, errlen, "%s: bad option '%s'%s", name, kv,
				 fn ? " (KEY=VALUE)" : " (it takes no options)");
			return -EINVAL;
		}
		*val++ = 0;
		if (fn(arg, kv, val, err, errlen))
			return -EINVAL;
	}
	return 0;
}

int spec_name(const char *spec, char *name, size_t namelen)
{
	size_t n = strcspn(spec, ":");

	if (n >= namelen)
		return -1;
	memcpy(name, spec, n);
	name[n] = 0;
	return (int)n;
}

int spec_option_u32(const char *key, const char *value, uint32_t min, uint32_t max, uint32_t *out,
		    char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(value, &end, 0);
	if (!*value || *value == '-' || *end || errno || v < min || v > max) {
		snprintf(err, errlen, "%s=%s: not an integer in [%u, %u]", key, value, min, max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

/* Whether a list element starting at @s is a new spec (not KEY=VALUE). */
static bool spec_starts(const char *s)
{
	size_t n = strcspn(s, ",:");

	return !memchr(s, '=', n);
}

/* The specs cut out of lists, kept (and reachable) for the life of the
 * process: option values point at them. */
struct spec_kept {
	struct spec_kept *next;
	char spec[];
};

static struct spec_kept *spec_kept;
static pthread_mutex_t spec_kept_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *spec_keep(const char *s, size_t len)
{
	struct spec_kept *k = malloc(sizeof(*k) + len + 1);

	if (!k)
		return NULL;
	memcpy(k->spec, s, len);
	k->spec[len] = 0;
	pthread_mutex_lock(&spec_kept_lock);
	k->next = spec_kept;
	spec_kept = k;
	pthread_mutex_unlock(&spec_kept_lock);
	return k->spec;
}

int spec_split_list(const char *value, const char **out, int max)
{
	int n = 0;

	if (!strchr(value, ','))
		return 0;
	for (const char *s = value; *s;) {
		const char *e = strchr(s, ',');
		const char *spec;
		size_t len;

		while (e && !spec_starts(e + 1))
			e = strchr(e + 1, ',');
		len = e ? (size_t)(e - s) : strlen(s);
		if (n == max || !(spec = spec_keep(s, len)))
			return -1;
		out[n++] = spec;
		s = e ? e + 1 : s + len;
	}
	return n == 1 ? 0 : n;
}
