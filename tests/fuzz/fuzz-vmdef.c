/* libFuzzer target: a VM definition (packages/hostd/vmdef.h) as POST /api/vms and PATCH take it;
 * a good one must come back the same through its JSON, and give vmm's arguments and its NICs'
 * tap names (each a valid interface name) and MACs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmdef.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm_def d, again, patched;
	struct api_error e;
	char *argv[VM_ARGV_MAX], *text;
	json_t *o;

	if (vm_def_parse((const char *)data, size, NULL, &d, &e) < 0) {
		if (e.status != 400 && e.status != 413)
			abort();
		return 0;
	}
	o = vm_def_json(&d);
	text = json_dumps(o, JSON_COMPACT);
	if (!text || vm_def_parse(text, strlen(text), NULL, &again, &e) < 0 || memcmp(&again, &d, sizeof(d)) != 0)
		abort();
	if (vm_def_parse((const char *)data, size, &d, &patched, &e) < 0 || memcmp(&patched, &d, sizeof(d)) != 0)
		abort();
	vm_argv(&d, "/usr/bin/vmm", "/ds", argv);
	vm_argv_free(argv);
	for (int i = 0; i < d.nics; i++) {
		char tap[VM_TAP_SIZE], mac[VM_MAC_SIZE];
		vm_tap_name(d.name, i, tap);
		vm_nic_mac(&d, i, mac);
		if (strlen(tap) > 15 || strchr(tap, '/') || strchr(tap, ':') || strlen(mac) != 17)
			abort();
	}
	json_decref(vm_nics_json(&d));
	free(text);
	json_decref(o);
	return 0;
}
