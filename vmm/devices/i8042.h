/* The i8042 keyboard controller, only as far as a guest uses it to reset the machine. */
#ifndef VMM_I8042_H
#define VMM_I8042_H

#include <stdbool.h>
#include <stdint.h>

#define I8042_DATA 0x60
#define I8042_CMD 0x64

/* The bus handler for ports 0x60 and 0x64 (dev is the struct vm); command 0xfe reboots. */
void i8042_access(void *vm, uint64_t off, uint8_t *data, uint32_t len, bool write);

#endif
