/*
 * Linked only into the appliance's static hostcfg (the Makefile's $(OUT)/target/hostcfg): libarchive's
 * archive_write_set_format.o, which its ustar writer needs, names every format's writer, and the
 * xar writer would pull in libxml2 and through it ICU (tens of MiB). hostcfg writes ustar only;
 * this stands in for the xar writer so that the static link leaves it out.
 */
#include <archive.h>

int archive_write_set_format_xar(struct archive *a);

int archive_write_set_format_xar(struct archive *a)
{
	archive_set_error(a, -1, "xar is not built into hostcfg");
	return ARCHIVE_FATAL;
}
