/* hostd's JSON answers (reply.h). */
#include "reply.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void reply(struct sreq *req, int status, json_t *body)
{
	char *text = json_dumps(body, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	size_t len = text ? strlen(text) : 0;

	if (text) {
		text = xrealloc(text, len + 2);
		memcpy(text + len, "\n", 2);
		len++;
	}
	sreq_reply(req, status, "application/json", text ? text : "{}\n", text ? len : 3);
	free(text);
	json_decref(body);
}
