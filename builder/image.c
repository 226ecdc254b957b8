#include "image.h"
int image_build(const struct image_opts *o, const struct profile *p, struct build *b, struct diag *d)
{ (void)o; (void)p; (void)b; (void)d; return 0; }
