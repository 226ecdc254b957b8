/* What arrives at the DCUI's terminal (packages/dcui/keys.h, model.h): any bytes decoded to keys
 * as the DCUI reads them, in pieces of any size, each key taking at least one byte once the
 * input is final; the keys typed into a field; and the same bytes read as the texts of
 * /proc/cmdline, os-release, /run/health, /proc/net/route and /etc/group. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "model.h"
#include "sysfile.h"

static void decode(const uint8_t *data, size_t size)
{
	char field[16] = "";
	size_t pos = 0, avail = size ? data[0] % 8 : 0;

	while (pos < size) {
		size_t used, have = avail > size - pos ? size - pos : avail;
		int final = have == size - pos;
		int k = key_decode(data + pos, have, final, &used);
		if (used > have || (final && have && used == 0) || (k != DK_NONE && used == 0))
			abort();
		if (k != DK_NONE && k != DK_UNKNOWN)
			(void)key_name(k);
		dm_field_key(field, sizeof(field), k);
		if (strlen(field) >= sizeof(field))
			abort();
		pos += used;
		avail = used ? 1 + (data[pos % size] % 8) : avail + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), out[128];

	decode(data, size);
	memcpy(text, data, size);
	text[size] = '\0';
	(void)sysfile_bank(text);
	(void)sysfile_osrelease_value(text, "VERSION_ID", out, sizeof(out));
	dm_health(text, out, sizeof(out));
	dm_route_gateway(text, out, sizeof(out));
	(void)dm_in_group(text, "localadmin", "ops");
	free(text);
	return 0;
}
