/* libFuzzer target: init's driver tables (packages/init/modalias.h) on arbitrary bytes: the
 * input, split at its first NUL, is an alias table and a modules.dep table; then a few devices
 * are matched and every module line's dependencies looked up. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modalias.h"

static struct modtable t;

static const char *const devices[] = {
	"pci:v00008086d0000100Esv00001AF4sd00001100bc02sc00i00", "virtio:d00000008v00001AF4", "scsi:t-0x00",
	"usb:v054Cp0010d0300dc00dsc00dp00ic08isc06ip50in00", "",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 2), *dep;
	int line;

	memcpy(text, data, size);
	text[size] = text[size + 1] = '\0';
	dep = text + strlen(text) + 1;
	memset(&t, 0, sizeof(t));
	modalias_parse(&t, text, &line);
	moddep_parse(&t, dep, &line);
	for (size_t i = 0; i < sizeof(devices) / sizeof(devices[0]); i++) {
		size_t next = 0;
		while (modalias_match(&t, devices[i], &next))
			;
	}
	for (size_t i = 0; i < t.ndep; i++)
		for (size_t j = 0; j < t.dep[i].ndeps; j++)
			moddep_find(&t, t.dep[i].deps[j], 1);
	for (size_t i = 0; i < t.nalias; i++)
		moddep_find(&t, t.alias[i].module, 0);
	free(text);
	return 0;
}
