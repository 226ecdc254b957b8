/* libFuzzer target: the boot state (GRUB environment block) parser and the bank choice. */
#include <stdint.h>
#include <string.h>

#include "bank.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bank_env e, out;
	struct bank_choice c;
	bool present[2] = {true, true};
	char block[BANK_ENV_SIZE];

	if (bank_env_parse((const char *)data, size, &e) == 0) {
		bank_choose(&e, present, &c);
		bank_apply(&e, &c);
		bank_env_format(&e, block);
		/* What we write must read back as what we meant. */
		if (bank_env_parse(block, sizeof(block), &out) != 0 || memcmp(&out, &e, sizeof(e)) != 0)
			__builtin_trap();
	}
	return 0;
}
