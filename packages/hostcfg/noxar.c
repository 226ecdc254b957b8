/*
 * Linked only into the appliance's static hostcfg (the Makefile's $(OUT)/target/hostcfg). The
 * ustar writer hostcfg uses needs libarchive's archive_write_set_format.o, which names every
 * format's writer, so a static link would carry them all: the xar writer with libxml2 and
 * through it ICU (tens of MiB, and not in the link line), the zip, 7-Zip, ISO 9660, mtree and
 * WARC writers with libcrypto, liblzma, libbz2 and libzstd. hostcfg writes ustar only: these
 * stand in for the others, so that the link leaves them out.
 */
#include <archive.h>

#define NO_WRITER(name)                                                                 \
	int archive_write_set_format_##name(struct archive *a);                          \
	int archive_write_set_format_##name(struct archive *a)                           \
	{                                                                                \
		archive_set_error(a, -1, "the " #name " writer is not built into hostcfg"); \
		return ARCHIVE_FATAL;                                                    \
	}

NO_WRITER(xar)
NO_WRITER(zip)
NO_WRITER(7zip)
NO_WRITER(iso9660)
NO_WRITER(mtree)
NO_WRITER(warc)
