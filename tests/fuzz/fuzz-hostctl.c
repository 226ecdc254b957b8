/* hostctl's handling of what a server sends: any answer head (http_head_parse), any chunked
 * body (chunked_feed, fed in two pieces split where the first byte says), and any JSON printed
 * as a table (table_print). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "resp.h"
#include "table.h"

static int sink(void *arg, const char *p, size_t n)
{
	size_t *total = arg;

	if (n && !p)
		__builtin_trap();
	*total += n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null;
	struct http_head h;
	struct chunked c = { 0 };
	size_t used = 0, total = 0, split = size ? data[0] % (size + 1) : 0;
	json_t *j;

	if (!null)
		null = fopen("/dev/null", "w");
	http_head_parse((const char *)data, size, &h);
	if (chunked_feed(&c, (const char *)data, split, &used, sink, &total) == 0)
		chunked_feed(&c, (const char *)data + split, size - split, &used, sink, &total);
	if (total > size)
		__builtin_trap(); /* more data out than went in */
	j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (j) {
		table_print(null, j);
		json_decref(j);
	}
	return 0;
}
