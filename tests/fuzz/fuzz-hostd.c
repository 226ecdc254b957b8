/* What a client sends hostd (packages/hostd/api.h): any PATCH /api/config body against the
 * defaults, and the same bytes as an Authorization header's value. A body is either refused with
 * 400 and a field, or gives a configuration that passes the model's checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

static void basic(const uint8_t *data, size_t size)
{
	char *hdr = malloc(size + 1), user[64], pw[256];

	memcpy(hdr, data, size);
	hdr[size] = '\0';
	if (api_basic_parse(hdr, user, sizeof(user), pw, sizeof(pw)) && (strlen(user) == 0 || strlen(user) >= sizeof(user)))
		abort();
	free(hdr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hc_config cur, out = {0};
	struct api_error e;
	struct diag d;
	char *names = NULL;

	hc_defaults(&cur);
	if (api_patch((const char *)data, size, &cur, &out, &names, &e) == 0) {
		if (hc_check(&out, &d) < 0 || !names || !*names)
			abort();
		free(names);
		hc_free(&out);
	} else if (e.status != 400 || !e.field[0] || names || out.val[0]) {
		abort();
	}
	hc_free(&cur);
	basic(data, size);
	return 0;
}
