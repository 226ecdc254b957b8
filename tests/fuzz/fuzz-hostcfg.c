/* libFuzzer target: host.conf's parser (packages/hostcfg) on arbitrary bytes; what it accepts must
 * format to text that parses again to the same text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hc_config c = {0}, again = {0};
	struct diag d;
	char *text, *text2;

	hc_defaults(&c);
	if (hc_parse("host.conf", (const char *)data, size, &c, &d) == 0) {
		text = hc_format(&c);
		hc_defaults(&again);
		if (hc_parse("again", text, strlen(text), &again, &d) != 0)
			abort();
		text2 = hc_format(&again);
		if (strcmp(text, text2) != 0)
			abort();
		free(text), free(text2);
		hc_free(&again);
	}
	hc_free(&c);
	return 0;
}
