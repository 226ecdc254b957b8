/* libFuzzer target: modules.dep parsing and dependency resolution on arbitrary bytes. */
#include <stdint.h>

#include "kmod.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kmod_db db = {0};
	struct strv want = {0}, out = {0};
	int lines[2] = {1, 1};
	struct diag d;

	if (kmod_parse_dep(&db, "modules.dep", (const char *)data, size, &d) == 0 && db.n > 0) {
		strv_push(&want, db.e[0].name);
		strv_push(&want, db.e[db.n - 1].name);
		kmod_resolve(&db, &want, lines, "fuzz.image", &out, &d);
	}
	strv_free(&want);
	strv_free(&out);
	kmod_free(&db);
	return 0;
}
