#define _GNU_SOURCE
#include "profile.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *const profile_keys[] = {
	"name", "description", "kernel", "bootloader", "initramfs", "system", "modules", "drivers",
	"system-modules", "system-drivers", "cmdline", "size-max", NULL,
};

int profile_parse_size(const char *s, unsigned long long *ret)
{
	char *end;
	unsigned long long v, mult = 1;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end == 'K')
		mult = 1ULL << 10;
	else if (*end == 'M')
		mult = 1ULL << 20;
	else if (*end == 'G')
		mult = 1ULL << 30;
	if (mult > 1)
		end++;
	if (*end || v > (~0ULL) / mult)
		return -EINVAL;
	*ret = v * mult;
	return 0;
}

static void namelist_add(struct namelist *l, const char *value, int line)
{
	struct strv w = {0};

	kv_split(value, &w);
	for (size_t i = 0; i < w.n; i++) {
		l->lines = xrealloc(l->lines, (l->names.n + 1) * sizeof(int));
		l->lines[l->names.n] = line;
		strv_push(&l->names, w.v[i]);
	}
	strv_free(&w);
}

static void namelist_free(struct namelist *l)
{
	strv_free(&l->names);
	free(l->lines);
}

static int set_once(char **field, const struct kv *kv, const char *path, struct diag *d)
{
	if (*field)
		return diag_set(d, path, kv->line, "'%s' given twice; keep one", kv->key);
	if (!*kv->value || strchr(kv->value, '\n'))
		return diag_set(d, path, kv->line, "'%s' needs a one-line value", kv->key);
	*field = xstrdup(kv->value);
	return 0;
}

static int set_size(struct profile *p, const struct kv *kv, struct diag *d)
{
	if (p->size_max_line)
		return diag_set(d, p->path, kv->line, "'size-max' given twice; keep one");
	if (profile_parse_size(kv->value, &p->size_max) < 0)
		return diag_set(d, p->path, kv->line, "size '%s' is not a size; write e.g. 32M", kv->value);
	p->size_max_line = kv->line;
	return 0;
}

static int apply_kv(struct profile *p, const struct kv *kv, struct diag *d)
{
	int r = kv_check_key(p->path, kv, profile_keys, d);

	if (r < 0)
		return r;
	if (strcmp(kv->key, "name") == 0)
		return set_once(&p->name, kv, p->path, d);
	if (strcmp(kv->key, "description") == 0)
		return set_once(&p->description, kv, p->path, d);
	if (strcmp(kv->key, "cmdline") == 0)
		return set_once(&p->cmdline, kv, p->path, d);
	if (strcmp(kv->key, "size-max") == 0)
		return set_size(p, kv, d);
	if (strcmp(kv->key, "kernel") == 0) {
		p->kernel_line = kv->line;
		return set_once(&p->kernel, kv, p->path, d);
	}
	if (strcmp(kv->key, "bootloader") == 0) {
		p->bootloader_line = kv->line;
		return set_once(&p->bootloader, kv, p->path, d);
	}
	namelist_add(strcmp(kv->key, "initramfs") == 0 ? &p->initramfs :
		     strcmp(kv->key, "system") == 0 ? &p->system :
		     strcmp(kv->key, "drivers") == 0 ? &p->drivers :
		     strcmp(kv->key, "system-drivers") == 0 ? &p->system_drivers :
		     strcmp(kv->key, "system-modules") == 0 ? &p->system_modules : &p->modules, kv->value, kv->line);
	return 0;
}

static int check_required(struct profile *p, struct diag *d)
{
	if (!p->name)
		return diag_set(d, p->path, 0, "missing 'name'; add 'name = <image name>'");
	if (strpbrk(p->name, "/ \t") || p->name[0] == '.')
		return diag_set(d, p->path, 0, "image name '%s' must be a plain file name", p->name);
	if (!p->kernel)
		return diag_set(d, p->path, 0, "missing 'kernel'; name the recipe that provides the kernel");
	if (p->initramfs.names.n == 0)
		return diag_set(d, p->path, 0, "missing 'initramfs'; list the packages of the initramfs (init at least)");
	return 0;
}

int profile_parse(const char *path, const char *text, size_t len, struct profile **ret, struct diag *d)
{
	struct profile *p = xcalloc(1, sizeof(*p));
	struct kv_lexer lx;
	struct kv kv;
	int r;

	p->path = xstrdup(path);
	p->text = xstrndup(text, len);
	p->text_len = len;
	kv_init(&lx, path, text, len);
	while ((r = kv_next(&lx, &kv, d)) > 0) {
		r = apply_kv(p, &kv, d);
		kv_free(&kv);
		if (r < 0)
			break;
	}
	if (r == 0)
		r = check_required(p, d);
	if (r < 0) {
		profile_free(p);
		return r;
	}
	*ret = p;
	return 0;
}

int profile_check_bootable(const struct profile *p, struct diag *d)
{
	if (!p->bootloader)
		return diag_set(d, p->path, 0, "missing 'bootloader'; name the recipe that provides GRUB "
				"('bootloader = grub')");
	return 0;
}

int profile_load(const char *path, struct profile **ret, struct diag *d)
{
	char *text;
	size_t len;
	int r = util_read_file(path, &text, &len);

	if (r < 0)
		return diag_set(d, path, 0, "cannot read the image profile: %s", strerror(-r));
	r = profile_parse(path, text, len, ret, d);
	free(text);
	return r;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	namelist_free(&p->initramfs);
	namelist_free(&p->system);
	namelist_free(&p->modules);
	namelist_free(&p->drivers);
	namelist_free(&p->system_modules);
	namelist_free(&p->system_drivers);
	free(p->path);
	free(p->text);
	free(p->name);
	free(p->description);
	free(p->cmdline);
	free(p->kernel);
	free(p->bootloader);
	free(p);
}
