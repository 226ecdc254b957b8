/* The boot disk seen from the host (bootbank/bootdisk.c), on a tiny disk image made in the
 * test's temp folder (tests/unit/disk-fixture.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bootdisk.h"
#include "disk-fixture.h"
#include "tap.h"

static char *temp_dir(void)
{
	char *dir = mkdtemp(xstrdup("/tmp/test-bootdisk.XXXXXX"));

	if (!dir)
		printf("# cannot make a temp folder\n");
	return dir;
}

static bool uuid_ok(const char *u)
{
	if (strlen(u) != 36)
		return false;
	for (const char *c = u; *c; c++)
		if (*c != '-' && !isdigit((unsigned char)*c) && !(*c >= 'A' && *c <= 'F'))
			return false;
	return true;
}

static void test_bootdisk_open_finds_the_four_partitions_when_the_gpt_names_them(void)
{
	char *dir = temp_dir(), *disk = NULL;
	struct disk_opts o = {0};
	struct bootdisk bd = {0};
	struct diag d = {{0}, 0};
	int r = fix_disk(dir, &o, &disk);

	r = r == 0 ? bootdisk_open(disk, 0, &bd, &d) : -1;
	ok(r == 0, "bootdisk_open: opens a disk when its GPT names esp, bank-a, bank-b and persist (%s)", d.msg);
	ok(r == 0 && bd.esp.offset == FIX_ESP_AT && bd.esp.size == 4 * FIX_MIB && bd.bank[0].offset == FIX_BANK_A_AT &&
	   bd.bank[0].size == FIX_BANK_SIZE && bd.bank[1].offset == FIX_BANK_B_AT && bd.bank[1].size == FIX_BANK_SIZE &&
	   bd.persist.offset == FIX_PERSIST_AT && bd.persist.size == 2 * FIX_MIB,
	   "bootdisk_open: each partition's offset and size in bytes when found");
	ok(r == 0 && uuid_ok(bd.bank[1].uuid) && strcmp(bd.bank[0].uuid, bd.bank[1].uuid) != 0,
	   "bootdisk_open: each partition's UUID in upper case when found ('%s')", bd.bank[1].uuid);
	if (r == 0)
		bootdisk_close(&bd);
	free(disk);
	util_rm_rf(dir);
	free(dir);
}

static void test_bootdisk_open_refuses_a_disk_when_a_partition_is_missing(void)
{
	char *dir = temp_dir(), *disk = NULL, *text;
	struct disk_opts o = {.no_persist = true};
	struct bootdisk bd = {0};
	struct diag d = {{0}, 0};
	int r = fix_disk(dir, &o, &disk);

	r = r == 0 ? bootdisk_open(disk, 1, &bd, &d) : 0;
	ok(r == -EINVAL && strstr(d.msg, "no GPT partition named 'persist'"),
	   "bootdisk_open: refused, naming the partition, when the GPT has no persist (%s)", d.msg);
	if (r == 0)
		bootdisk_close(&bd);
	free(disk);

	disk = xasprintf("%s/blank.img", dir);
	text = xcalloc(1, 1 << 20);
	util_write_file_atomic(disk, text, 1 << 20, 0644);
	free(text);
	r = bootdisk_open(disk, 0, &bd, &d);
	ok(r == -EINVAL && strstr(d.msg, "no GPT on this disk"), "bootdisk_open: refused when the disk has no GPT (%s)",
	   d.msg);
	if (r == 0)
		bootdisk_close(&bd);
	free(disk);
	disk = xasprintf("%s/missing.img", dir);
	r = bootdisk_open(disk, 0, &bd, &d);
	ok(r < 0 && strstr(d.msg, "missing.img"), "bootdisk_open: refused when the disk is missing (%s)", d.msg);
	free(disk);
	util_rm_rf(dir);
	free(dir);
}

static void test_bootdisk_state_round_trips_when_committed(void)
{
	char *dir = temp_dir(), *disk = NULL;
	struct disk_opts o = {0};
	struct bootdisk bd = {0};
	struct bootstate_copies c;
	struct bootstate st;
	struct bank_env want;
	struct buf envb = {0};
	struct diag d = {{0}, 0};
	char block[BANK_ENV_SIZE];
	int r = fix_disk(dir, &o, &disk);

	r = r == 0 ? bootdisk_open(disk, 1, &bd, &d) : -1;
	if (r == 0)
		r = bootdisk_state_load(&bd, &c, &st, &d);
	ok(r == 0 && c.fd[0] == bd.fd && c.fd[1] == bd.fd && c.offset[0] > FIX_ESP_AT && c.offset[1] > FIX_ESP_AT &&
	   c.offset[0] != c.offset[1] && c.offset[0] < FIX_ESP_AT + 4 * FIX_MIB,
	   "bootdisk_state_load: finds both copies inside the ESP when the FAT holds /grub/a/envA and /grub/b/envB (%s)",
	   d.msg);
	ok(r == 0 && st.current == 0 && st.valid[1] && st.env.seq == 1 && st.env.bank[0].state == BANK_GOOD,
	   "bootdisk_state_load: envA (seq 1) is current when envB has seq 0");
	want = st.env;
	want.bank[1] = (struct bank){BANK_TRIAL, 3, 2};
	if (r == 0)
		r = bootdisk_state_commit(&bd, &c, &st, &want, &d);
	ok(r == 0 && st.current == 1 && st.env.seq == 2, "bootdisk_state_commit: writes envB with seq 2 (%s)", d.msg);
	bootdisk_close(&bd);

	/* Open the disk afresh: the state on the disk, and the file envB as the FAT holds it (fat.c). */
	r = r == 0 ? bootdisk_open(disk, 0, &bd, &d) : -1;
	if (r == 0)
		r = bootdisk_state_load(&bd, &c, &st, &d);
	ok(r == 0 && st.current == 1 && st.env.bank[1].state == BANK_TRIAL && st.env.bank[1].tries == 3 &&
	   st.env.bank[1].gen == 2, "bootdisk_state_load: reads back the committed state when the disk is opened again");
	want.seq = 2;
	bank_env_format(&want, block);
	if (r == 0)
		r = bootdisk_read_file(&bd, &bd.esp, BANK_ENV_PATH_B, &envb, &d);
	ok(r == 0 && envb.len == BANK_ENV_SIZE && memcmp(envb.data, block, BANK_ENV_SIZE) == 0,
	   "bootdisk_state_commit: the FAT's file /grub/b/envB holds the new copy when it was written in place");
	buf_free(&envb);
	if (bd.path)
		bootdisk_close(&bd);
	free(disk);
	util_rm_rf(dir);
	free(dir);
}

static void test_bootdisk_state_round_trips_at_the_old_paths_when_the_disk_predates_the_folders(void)
{
	char *dir = temp_dir(), *disk = NULL;
	struct disk_opts o = {.old_env_paths = true};
	struct bootdisk bd = {0};
	struct bootstate_copies c;
	struct bootstate st;
	struct bank_env want;
	struct buf envb = {0};
	struct diag d = {{0}, 0};
	char block[BANK_ENV_SIZE];
	int r = fix_disk(dir, &o, &disk);

	r = r == 0 ? bootdisk_open(disk, 1, &bd, &d) : -1;
	if (r == 0)
		r = bootdisk_state_load(&bd, &c, &st, &d);
	ok(r == 0 && c.fd[0] == bd.fd && c.fd[1] == bd.fd && st.current == 0 && st.valid[1],
	   "bootdisk_state_load: finds both copies at /grub/envA and /grub/envB on a disk made before /grub/a, /grub/b (%s)",
	   d.msg);
	want = st.env;
	want.bank[1] = (struct bank){BANK_TRIAL, 3, 2};
	if (r == 0)
		r = bootdisk_state_commit(&bd, &c, &st, &want, &d);
	want.seq = 2;
	bank_env_format(&want, block);
	if (r == 0)
		r = bootdisk_read_file(&bd, &bd.esp, BANK_ENV_OLD_PATH_B, &envb, &d);
	ok(r == 0 && envb.len == BANK_ENV_SIZE && memcmp(envb.data, block, BANK_ENV_SIZE) == 0,
	   "bootdisk_state_commit: the old layout's /grub/envB holds the new copy (%s)", d.msg);
	buf_free(&envb);
	if (bd.path)
		bootdisk_close(&bd);
	free(disk);
	util_rm_rf(dir);
	free(dir);
}

static void test_bootdisk_state_commit_fails_with_enoent_when_the_other_copy_is_missing(void)
{
	char *dir = temp_dir(), *disk = NULL, *before = NULL, *after = NULL;
	struct disk_opts o = {.no_env_b = true};
	struct bootdisk bd = {0};
	struct bootstate_copies c = {{-1, -1}, {0, 0}};
	struct bootstate st = {0};
	struct bank_env want;
	struct diag d = {{0}, 0};
	size_t n1 = 0, n2 = 0;
	int r = fix_disk(dir, &o, &disk);

	r = r == 0 ? bootdisk_open(disk, 1, &bd, &d) : -1;
	if (r == 0)
		r = bootdisk_state_load(&bd, &c, &st, &d);
	ok(r == 0 && c.fd[0] >= 0 && c.fd[1] == -1 && st.current == 0 && !st.valid[1],
	   "bootdisk_state_load: envA decides, envB's fd is -1 when the ESP has no envB (%s)", d.msg);
	before = fix_read(disk, &n1);
	want = st.env;
	want.bank[1].state = BANK_TRIAL;
	r = r == 0 ? bootdisk_state_commit(&bd, &c, &st, &want, &d) : 0;
	after = fix_read(disk, &n2);
	ok(r == -ENOENT && st.current == 0 && st.env.bank[1].state == BANK_EMPTY && before && after && n1 == n2 &&
	   memcmp(before, after, n1) == 0 && strstr(d.msg, "previous state stays in force"),
	   "bootdisk_state_commit: -ENOENT, disk and state unchanged when envB is missing (%s)", d.msg);
	free(before), free(after);
	if (bd.path)
		bootdisk_close(&bd);
	free(disk);
	util_rm_rf(dir);
	free(dir);
}

static void test_bootdisk_files_round_trip_when_written_with_mtools(void)
{
	char *dir = temp_dir(), *disk = NULL;
	struct disk_opts o = {0};
	struct bootdisk bd = {0};
	struct bankinfo bi = {0};
	struct buf b = {0};
	struct diag d = {{0}, 0};
	int r = fix_disk(dir, &o, &disk);

	r = r == 0 ? bootdisk_open(disk, 1, &bd, &d) : -1;
	ok(r == 0 && bootdisk_write_file(&bd, &bd.persist, "/keys/learned.pem", "hello\n", 6, &d) == 0 &&
	   bootdisk_read_file(&bd, &bd.persist, "/keys/learned.pem", &b, &d) == 0 && b.len == 6 &&
	   memcmp(b.data, "hello\n", 6) == 0,
	   "bootdisk_write_file: a file written into a new folder of persist reads back (%s)", d.msg);
	buf_free(&b);
	ok(r == 0 && bootdisk_read_file(&bd, &bd.persist, "/nothing", &b, &d) == -ENOENT,
	   "bootdisk_read_file: -ENOENT when the file is not there");
	buf_free(&b);
	ok(r == 0 && bankinfo_read(&bd, 0, &bi, &d) == 0 && bi.product && strcmp(bi.product, "hypervisor") == 0 &&
	   bi.version && strcmp(bi.version, "1.0.0") == 0 && !bi.files && !bi.state,
	   "bankinfo_read: product and version from boot.cfg, no kernel files, no state when bank-a holds only boot.cfg");
	bankinfo_free(&bi);
	if (r == 0)
		bootdisk_close(&bd);
	free(disk);
	util_rm_rf(dir);
	free(dir);
}

int main(void)
{
	const char *why = NULL;

	if (!fix_have_tools(&why)) {
		ok(1, "bootdisk: every check # SKIP %s is not installed", why);
		return tap_done();
	}
	test_bootdisk_open_finds_the_four_partitions_when_the_gpt_names_them();
	test_bootdisk_open_refuses_a_disk_when_a_partition_is_missing();
	test_bootdisk_state_round_trips_when_committed();
	test_bootdisk_state_round_trips_at_the_old_paths_when_the_disk_predates_the_folders();
	test_bootdisk_state_commit_fails_with_enoent_when_the_other_copy_is_missing();
	test_bootdisk_files_round_trip_when_written_with_mtools();
	return tap_done();
}
