/* libFuzzer target: init's service files (packages/init/service.h) on arbitrary bytes. The input,
 * split at each NUL, is up to 8 service files named s0, s1, ...; each is parsed, then the start
 * order is worked out (unknown names and cycles included) and the restart decisions are asked. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "service.h"

static struct service svcs[8];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *p, *end;
	size_t n = 0, order[8], failed;

	memcpy(text, data, size);
	text[size] = '\0';
	end = text + size;
	for (p = text; p <= end && n < 8; p += strlen(p) + 1, n++) {
		char name[8];
		snprintf(name, sizeof(name), "s%zu", n);
		service_parse(&svcs[n], name, name, p, strlen(p));
	}
	if (service_order(svcs, n, order) != n)
		abort(); /* every service must be in the order */
	for (size_t i = 0; i < n; i++) {
		service_deps(svcs, i, &failed);
		service_wants_restart(&svcs[i], i % 2);
		service_restart_allowed(&svcs[i], (double)i);
		service_backoff(&svcs[i], (double)i);
		if (svcs[i].state != SVC_BAD && (!svcs[i].command.argv[0] || svcs[i].command.argv[0][0] != '/'))
			abort(); /* a service init would start has an absolute command */
	}
	free(text);
	return 0;
}
