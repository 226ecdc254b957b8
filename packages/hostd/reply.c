/* hostd's JSON answers (reply.h). */
#include "reply.h"

#include <event2/buffer.h>
#include <stdlib.h>

void reply(struct evhttp_request *req, int status, json_t *body)
{
	struct evbuffer *b = evbuffer_new();
	char *text = json_dumps(body, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	evbuffer_add_printf(b, "%s\n", text ? text : "{}");
	evhttp_send_reply(req, status, NULL, b);
	evbuffer_free(b);
	free(text);
	json_decref(body);
}
