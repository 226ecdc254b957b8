/* hostd's JSON answers (reply.h). */
#include "reply.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void reply(struct sreq *req, int status, json_t *body)
{
	char *text;
	size_t len;

	if (!req) { /* the client has gone (a call answered late) */
		json_decref(body);
		return;
	}
	text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
	len = text ? strlen(text) : 0;

	if (text) {
		text = xrealloc(text, len + 2);
		memcpy(text + len, "\n", 2);
		len++;
	}
	sreq_reply(req, status, "application/json", text ? text : "{}\n", text ? len : 3);
	free(text);
	json_decref(body);
}
