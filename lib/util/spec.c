/* Strategy specs: see spec.h. */
#include "lib/util/spec.h"

#include <errno.h>
#include <stdio.h>
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
