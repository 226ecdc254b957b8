/* libFuzzer target: modules.dep and modules.alias parsing and dependency resolution on arbitrary bytes. */
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
	kmod_parse_alias(&db, "modules.alias", (const char *)data, size, &d);
	if (db.alias_module.n > 0)
		kmod_find(&db, db.alias_module.v[0]);
	strv_free(&want);
	strv_free(&out);
	kmod_free(&db);
	return 0;
}
