/* logd's parsers of outside input: a /dev/log datagram (any local process sends one), a kernel
 * record, and the configuration file; and the formatting of what they produce. */
#include <stdint.h>
#include <string.h>

#include "conf.h"
#include "msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct timespec now = {1796067803, 123456789};
	struct logmsg m;
	struct logd_conf c;
	struct diag d = {0};
	char out[LOGMSG_TEXT + 512];

	logmsg_parse_dgram((const char *)data, size, &now, &m);
	logmsg_format_5424(&m, "host", out, sizeof(out));
	logmsg_format_local(&m, out, sizeof(out));
	if (logmsg_parse_kmsg((const char *)data, size, &now, &m) == 0)
		logmsg_format_5424(&m, "", out, sizeof(out));
	logd_conf_parse("fuzz.conf", (const char *)data, size, &c, &d);
	return 0;
}
