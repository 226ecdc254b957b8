/* i8042: reads give an idle controller; the "pulse reset line" command (0xfe) reboots the VM. */
#include "devices/i8042.h"

#include <string.h>

#include "vm.h"

#define I8042_RESET 0xfe

void i8042_access(void *vm, uint64_t off, uint8_t *data, uint32_t len, bool write)
{
	if (!write) {
		memset(data, 0, len); /* status: output buffer empty, input buffer empty */
		return;
	}
	if (off == I8042_CMD - I8042_DATA && data[0] == I8042_RESET)
		vm_stop(vm, VM_REBOOT, NULL);
}
