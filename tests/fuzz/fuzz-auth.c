/* What a person types at the console's login (packages/auth): any user name and password against
 * a shadow file with a sha512-crypt, an empty and a locked hash; the counts in a folder of its own. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"

static struct auth_paths paths;

static void setup(void)
{
	static char dir[] = "/tmp/fuzz-auth.XXXXXX", shadow[64], faillock[64];
	FILE *f;

	if (!mkdtemp(dir))
		abort();
	snprintf(shadow, sizeof(shadow), "%s/shadow", dir);
	snprintf(faillock, sizeof(faillock), "%s/faillock", dir);
	f = fopen(shadow, "w");
	/* sha512-crypt of "secret" with rounds=1000 (the minimum), so that each check is quick */
	fprintf(f, "root:$6$rounds=1000$abcdefgh$nhYjN017qxiYztzyUpZtPnUQcnLy62KsunSLHNeLahp2EHPlAKmFFlrjEwSXGo2kgY5"
		   "hR2.peKEg2VGUqIJJu1:::::::\nops::::::::\nlocked:!:::::::\n");
	fclose(f);
	paths = (struct auth_paths){shadow, faillock};
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char user[64] = "", password[256] = "";
	const uint8_t *nul = memchr(data, 0, size);
	size_t un = nul ? (size_t)(nul - data) : size;

	if (!paths.shadow)
		setup();
	memcpy(user, data, un < sizeof(user) - 1 ? un : sizeof(user) - 1);
	if (nul) {
		size_t pn = size - un - 1;
		memcpy(password, nul + 1, pn < sizeof(password) - 1 ? pn : sizeof(password) - 1);
	}
	auth_user_valid(user);
	auth_check(&paths, user, password, 1000, NULL);
	return 0;
}
