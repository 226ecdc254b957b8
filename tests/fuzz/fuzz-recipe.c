/* libFuzzer target: the recipe parser on arbitrary bytes must not crash, leak or loop. */
#include <stdint.h>

#include "recipe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct recipe *r = NULL;
	struct diag d;

	if (recipe_parse("recipes/fuzz/fuzz.recipe", ".", (const char *)data, size, &r, &d) == 0)
		recipe_free(r);
	return 0;
}
