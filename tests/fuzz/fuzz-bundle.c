/* libFuzzer target: a whole update bundle as bankctl reads it (tar, manifest, signature, bank
 * image header and data), from arbitrary bytes: streamed (a pipe's way), and in place from the
 * mapped file (a file's way, bundle_image_view), odd and even input lengths taking turns. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bundle.h"

static void read_image(struct bundle_reader *b, struct diag *d)
{
	static char chunk[1 << 16];
	struct hvimg h = {0};

	if (bundle_image_open(b, &h, d) == 0) {
		for (uint64_t done = 0; done < h.data_bytes;) {
			size_t n = h.data_bytes - done < sizeof(chunk) ? (size_t)(h.data_bytes - done) : sizeof(chunk);
			if (bundle_image_read(b, chunk, n, d) < 0)
				break;
			done += n;
		}
		bundle_image_close(b, d);
	}
	hvimg_free(&h);
}

/* In place: every byte of the view is read, as the hash of staging's verify pass reads them. */
static void view_image(struct bundle_reader *b, struct diag *d)
{
	const unsigned char *p = NULL;
	struct hvimg h = {0};
	unsigned sum = 0;

	if (bundle_image_view(b, &h, &p, d) == 0) {
		for (uint64_t i = 0; i < h.header_len + h.data_bytes; i++)
			sum += p[i];
		if (sum == 0xffffffffu)
			fprintf(stderr, "%u\n", sum);
		bundle_image_close(b, d);
	}
	hvimg_free(&h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz-bundle.XXXXXX";
	int fd = mkstemp(path);
	struct bundle_reader *b = NULL;
	struct keyring *k = signing_keyring_new();
	struct signing_info in = {0};
	struct diag d;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (bundle_open(path, &b, &d) == 0) {
		if (bundle_verify_signature(b, k, &in, &d) == 0)
			buf_free(&in.new_certs);
		if ((size & 1) && bundle_mapped(b))
			view_image(b, &d);
		else
			read_image(b, &d);
	}
	bundle_close(b);
	signing_keyring_free(k);
	unlink(path);
	return 0;
}
