/* hostd's JSON answers, for every part that answers calls (hostd.c's handlers, vms.c). */
#ifndef HOSTD_REPLY_H
#define HOSTD_REPLY_H

#include <jansson.h>

#include "server.h"

/* Reply with status and body (taken), compact JSON (members in their order) and a final newline. */
void reply(struct sreq *req, int status, json_t *body);

#endif
