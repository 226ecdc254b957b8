/* The HTTP answer's head and chunked framing (resp.h). */
#include "resp.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The next line of [*p, end): its start and length without CR LF; *p moves past it. */
static bool next_line(const char **p, const char *end, const char **line, size_t *n)
{
	const char *s = *p, *nl;

	if (s >= end)
		return false;
	nl = memchr(s, '\n', (size_t)(end - s));
	*line = s;
	*n = (size_t)((nl ? nl : end) - s);
	*p = nl ? nl + 1 : end;
	if (*n && s[*n - 1] == '\r')
		(*n)--;
	return true;
}

static bool status_line(const char *s, size_t n, struct http_head *h)
{
	size_t r;

	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)s[7]) || s[8] != ' ')
		return false;
	if (!isdigit((unsigned char)s[9]) || !isdigit((unsigned char)s[10]) || !isdigit((unsigned char)s[11]))
		return false;
	h->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	if (h->status < 100 || (n > 12 && s[12] != ' '))
		return false;
	r = n > 13 ? n - 13 : 0;
	if (r >= sizeof(h->reason))
		r = sizeof(h->reason) - 1;
	memcpy(h->reason, s + 13, r);
	h->reason[r] = '\0';
	return true;
}

static bool is_name(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && strncasecmp(name, want, n) == 0;
}

static bool content_length(const char *v, size_t n, struct http_head *h)
{
	long long x = 0;

	if (n == 0 || n > 18)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)v[i]))
			return false;
		x = x * 10 + (v[i] - '0');
	}
	if (h->length >= 0 && h->length != x)
		return false;
	h->length = x;
	return true;
}

static void content_type(const char *v, size_t n, struct http_head *h)
{
	size_t i;

	for (i = 0; i < n && i + 1 < sizeof(h->type) && v[i] != ';' && v[i] != ' '; i++)
		h->type[i] = (char)tolower((unsigned char)v[i]);
	h->type[i] = '\0';
}

static bool header(const char *s, size_t n, struct http_head *h)
{
	const char *colon = memchr(s, ':', n), *v;
	size_t nn, vn;

	if (!colon || colon == s)
		return false;
	nn = (size_t)(colon - s);
	v = colon + 1;
	vn = n - nn - 1;
	while (vn && (*v == ' ' || *v == '\t'))
		v++, vn--;
	while (vn && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
		vn--;
	if (is_name(s, nn, "Content-Length"))
		return content_length(v, vn, h);
	if (is_name(s, nn, "Transfer-Encoding"))
		h->chunked = vn >= 7 && strncasecmp(v + vn - 7, "chunked", 7) == 0;
	else if (is_name(s, nn, "Content-Type"))
		content_type(v, vn, h);
	return true;
}

int http_head_parse(const char *buf, size_t len, struct http_head *h)
{
	const char *p = buf, *end = buf + len, *line;
	size_t n;

	memset(h, 0, sizeof(*h));
	h->length = -1;
	if (!next_line(&p, end, &line, &n) || !status_line(line, n, h))
		return -1;
	while (next_line(&p, end, &line, &n)) {
		if (n == 0 || !header(line, n, h))
			return -1;
	}
	return 0;
}

enum { C_SIZE, C_EXT, C_SIZE_LF, C_DATA, C_DATA_CR, C_DATA_LF, C_TRAILER, C_TRAILER_LF, C_DONE };

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)tolower((unsigned char)ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* One byte of the framing (not data): 0 on, -1 bad. */
static int frame_byte(struct chunked *c, char ch)
{
	switch (c->state) {
	case C_SIZE:
		if (hexval(ch) >= 0) {
			if (c->linelen++ >= 15)
				return -1;
			c->left = c->left * 16 + (unsigned)hexval(ch);
			return 0;
		}
		if (c->linelen == 0)
			return -1;
		c->state = ch == '\r' ? C_SIZE_LF : ch == '\n' ? C_DATA : C_EXT;
		if (ch == '\n' && c->left == 0)
			c->state = C_TRAILER, c->linelen = 0;
		return ch == '\r' || ch == '\n' || ch == ';' || ch == ' ' || ch == '\t' ? 0 : -1;
	case C_EXT:
		if (ch == '\r')
			c->state = C_SIZE_LF;
		else if (ch == '\n')
			c->state = c->left ? C_DATA : C_TRAILER, c->linelen = 0;
		return 0;
	case C_SIZE_LF:
		if (ch != '\n')
			return -1;
		c->state = c->left ? C_DATA : C_TRAILER;
		c->linelen = 0;
		return 0;
	case C_DATA_CR:
		c->state = C_DATA_LF;
		return ch == '\r' ? 0 : ch == '\n' ? (c->state = C_SIZE, c->linelen = 0, 0) : -1;
	case C_DATA_LF:
		c->state = C_SIZE;
		c->linelen = 0;
		return ch == '\n' ? 0 : -1;
	case C_TRAILER:
		if (ch == '\n' && c->linelen == 0)
			c->state = C_DONE;
		else if (ch == '\r')
			c->state = C_TRAILER_LF;
		else if (ch == '\n')
			c->linelen = 0;
		else if (c->linelen++ > 8192)
			return -1;
		return 0;
	case C_TRAILER_LF:
		if (ch != '\n')
			return -1;
		c->state = c->linelen == 0 ? C_DONE : C_TRAILER;
		c->linelen = 0;
		return 0;
	}
	return -1;
}

int chunked_feed(struct chunked *c, const char *in, size_t n, size_t *used, chunk_out out, void *arg)
{
	size_t i = 0;

	while (i < n && c->state != C_DONE) {
		if (c->state == C_DATA) {
			size_t take = n - i < c->left ? n - i : (size_t)c->left;

			if (out(arg, in + i, take) != 0)
				return -2;
			i += take;
			c->left -= take;
			if (c->left == 0)
				c->state = C_DATA_CR;
			continue;
		}
		if (frame_byte(c, in[i++]) != 0)
			return -1;
	}
	*used = i;
	return c->state == C_DONE ? 1 : 0;
}
