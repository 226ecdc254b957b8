#!/bin/sh
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for FUZZ_SECONDS (default 5;
# `make fuzz` runs them for 600). Seeds come from the repository's own recipes and profiles;
# the corpus grows in out/fuzz/<target>/. Prints one TAP line per target.
set -u
OUT=${OUT:-out}
SECS=${FUZZ_SECONDS:-5}
SRC="lib/util.c lib/kv.c lib/kvcheck.c lib/diag.c lib/hash.c lib/sysfile.c lib/medium.c builder/recipe.c builder/profile.c builder/kmod.c bootbank/bank.c bootbank/fat.c image/hvimg.c image/bundle.c packages/installer/ks.c packages/init/modalias.c packages/init/service.c packages/hostcfg/hostconfig.c signing/verify.c vmm/config.c vmm/mem.c vmm/devices/virtq.c packages/logd/msg.c packages/logd/conf.c packages/auth/auth.c packages/hostd/api.c packages/hostd/server.c packages/hostctl/args.c packages/hostctl/table.c packages/hostctl/resp.c packages/hostd/vmdef.c packages/dcui/keys.c packages/dcui/model.c"
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Ilib -Ibuilder -Ibootbank -Iimage -Ialtbootbank -Ipackages/installer -Ipackages/init -Ipackages/hostcfg -Ipackages/logd -Ipackages/auth -Ipackages/hostd -Ipackages/dcui -Ipackages/hostctl -Isigning -Ivmm -D_GNU_SOURCE"
LIBS="-larchive -lcrypto -lcrypt -ljansson -l:libhttp_parser.a -levent_core -lssl"
n=0 failed=0
for t in recipe profile kmod modalias medium service manifest bundle hvimg hvimg2 bootstate fat ks hostcfg vmm-config vmm-virtq logd auth hostd hostctl vmdef dcui; do
	n=$((n + 1))
	dir=$OUT/fuzz/$t
	mkdir -p "$dir/corpus"
	case $t in
	recipe) cp recipes/*/*.recipe "$dir/corpus/" 2>/dev/null ;;
	profile) cp recipes/images/*.image "$dir/corpus/" 2>/dev/null ;;
	kmod) printf 'kernel/a.ko: kernel/b.ko\nkernel/b.ko:\n' >"$dir/corpus/seed"
		printf 'alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000\nalias scsi:t-0x00* sd_mod\n' >"$dir/corpus/alias" ;;
	modalias) # an alias table, NUL, a modules.dep table (what the builder writes for init)
		{ printf 'alias pci:v00008086d0000100Esv*sd*bc*sc*i* e1000\nalias virtio:d00000008v* virtio_scsi\n'
		  printf 'alias usb:v054Cp0010d0[1-5]*dc*dsc*dp*ic*isc*ip*in* usb_storage\n\000'
		  printf 'kernel/e1000.ko:\nkernel/nvme.ko: kernel/nvme-core.ko\nkernel/nvme-core.ko:\n'; } >"$dir/corpus/seed" ;;
	medium) # the payload cpio's header as the builder writes it (libarchive, newc)
		printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08Xsystem.sqfs\000\000hsqs' \
			1 33188 0 0 1 0 4096 0 0 0 0 12 0 >"$dir/corpus/seed" ;;
	service) cp packages/base-files/usr/lib/services/* "$dir/corpus/" 2>/dev/null
		# two files, NUL-separated: a dependency between them
		printf 'command = /bin/a\nafter = s1\nready = path /dev/log\000command = /bin/b\nrestart-limit = 3 10\n' \
			>"$dir/corpus/pair" ;;
	vmm-config) printf 'name = web-1\ncpus = 2\nmemory = 512M\nkernel = bz\ninitrd = /i\ncmdline = console=ttyS0\ndisk = a.img\nnic = tap0,mac=52:54:00:12:34:56\nconsole = stdio\n' >"$dir/corpus/seed" ;;
	vmm-virtq) # size 8, descriptors at 0x1000, avail at 0x2000, used at 0x3000; one 2-descriptor chain
		{ printf '\010\000\000\020\000\040\000\014'; head -c 4096 /dev/zero
		  printf '\000\001\000\000\000\000\000\000\020\000\000\000\001\000\001\000'
		  printf '\000\002\000\000\000\000\000\000\020\000\000\000\002\000\000\000'
		  head -c 4064 /dev/zero; printf '\000\000\001\000\000\000'; } >"$dir/corpus/seed" ;;
	logd) printf '<30>Nov 30 19:43:23 sshd[412]: Accepted password\n' >"$dir/corpus/3164"
		printf '<165>1 2003-10-11T22:14:15.003Z h app 77 ID [x@1 a="\\]"] msg' >"$dir/corpus/5424"
		printf '6,1234,2500000,-;eth0: link up\n SUBSYSTEM=net\n' >"$dir/corpus/kmsg"
		printf 'server = tcp://192.0.2.1:514\nserver = udp://[::1]\nca = /c.pem\nlog-size = 8192\n' >"$dir/corpus/conf" ;;
	auth) printf 'root\000secret' >"$dir/corpus/root"; printf 'ops\000' >"$dir/corpus/ops"; printf '../x\000y' >"$dir/corpus/bad" ;;
	hostd) printf '{"hostname": "esx-01", "dns-servers": "192.0.2.53"}' >"$dir/corpus/patch"
		printf '{"hostname": "h1", "syslog": ["tcp://192.0.2.1:514"], "ntp": ["pool.example"]}' >"$dir/corpus/lists"
		printf '{"name": "ops", "password": "Secret-12", "role": "operator"}' >"$dir/corpus/user"
		printf 'PUT /api/users/o%%70s/password' >"$dir/corpus/route"
		printf 'lines=20&x=1' >"$dir/corpus/lines"
		printf 'PUT /api/datastore/a HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello' >"$dir/corpus/head"
		printf 'POST /api/banks/stage?x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.0\r\n\r\n' >"$dir/corpus/chunked"
		printf 'isos/sub/a.iso' >"$dir/corpus/dspath"
		printf '{"network-mode": "static", "network-address": "192.0.2.10/24", "network-gateway": "192.0.2.1"}' >"$dir/corpus/static"
		printf 'Basic YWRtaW46cGFzcw==' >"$dir/corpus/basic" ;;
	hostctl) # an answer head, a chunked body, JSON answers of hostd
		printf 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12' >"$dir/corpus/head"
		printf '5\r\nhello\r\n7;x=1\r\n, world\r\n0\r\nT: x\r\n\r\n' >"$dir/corpus/chunked"
		printf '{"hostname":"esx-01","memory":34359738368,"nics":[{"name":"eth0","up":true,"addresses":["10.0.2.15/24"]}]}' >"$dir/corpus/host"
		printf '[{"name":"web-1","state":"running","memory_mib":512,"autostart":false}]' >"$dir/corpus/vms" ;;
	vmdef) printf '{"name":"web1","memory_mib":64,"cpus":2,"kernel":"images/bzImage","initrd":"images/initrd.cpio","cmdline":"console=ttyS0 quiet","disks":["web1/disk.img"],"nics":2,"autostart":true}' >"$dir/corpus/full"
		printf '{"name":"a","kernel":"k"}' >"$dir/corpus/min" ;;
	dcui) printf '\033OQ\033[24~\033[[B\033[1;3Pl\r\177\033' >"$dir/corpus/keys"
		printf 'localadmin:x:990:ann,ops\nbootbank=A\nVERSION_ID="1.0"\n' >"$dir/corpus/texts" ;;
	fat) # FATs as mkfs.fat and mcopy make them (a folder, a long name, files): a 40 KiB FAT12's
		# first 4 KiB (the rest is zeros); a FAT16's and a FAT32's boot sector, first 1 KiB of FAT
		# and first 2.5 KiB of the root folder, as fuzz-fat.c's lay_out() puts them back
		printf 'product="hypervisor"\n' >"$dir/boot.cfg"
		for spec in "fat12 40 -F 12 -r 16" "fat16 2200 -F 16 -r 16" "fat32 34000 -F 32"; do
			set -- $spec
			img=$dir/$1.img name=$1 kib=$2
			shift 2
			rm -f "$img"
			PATH=$PATH:/usr/sbin:/sbin mkfs.fat -C "$img" "$kib" "$@" -f 1 -s 1 -S 512 >/dev/null 2>&1 || continue
			MTOOLS_SKIP_CHECK=1 mmd -i "$img" ::/grub
			for p in /boot.cfg /grub/envA "/Long File Name.txt"; do
				MTOOLS_SKIP_CHECK=1 mcopy -i "$img" "$dir/boot.cfg" "::$p"
			done
			python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read()
if sys.argv[2] == "fat12":
    sys.stdout.buffer.write(d[:4096])
else:
    (bps,), (res,), fats = struct.unpack_from("<H", d, 11), struct.unpack_from("<H", d, 14), d[16]
    fatsz = struct.unpack_from("<H", d, 22)[0] or struct.unpack_from("<I", d, 36)[0]
    root = (res + fats * fatsz) * bps
    sys.stdout.buffer.write(d[:512] + d[res * bps:res * bps + 1024] + d[root:root + 2560])' "$img" "$name" \
				>"$dir/corpus/$name"
			rm -f "$img"
		done
		rm -f "$dir/boot.cfg" ;;
	ks) printf 'vmaccepteula\nrootpw x\ninstall --firstdisk\nnetwork --bootproto=static --ip=1.2.3.4 --netmask=255.0.0.0\nreboot\n' >"$dir/corpus/seed" ;;
	hostcfg) { printf 'hostname = esx-01\nnetwork-mode = static\nnetwork-address = 192.0.2.10/24\nnetwork-gateway = 192.0.2.1\n'
		printf 'dns-servers = 192.0.2.53 2001:db8::53\ndns-search = lab.example.com\nipv6-autoconf = off\n'
		printf 'syslog-servers = udp://log:514 tls://[2001:db8::1]:6514\nntp-servers = pool.ntp.org\nlocaladmin = ops\n'
		printf 'user = root administrator 0 !\nuser = ops operator 1000 %s\n' \
			'$6$TA3HWPDc9YlrLL0A$bZCMbBZxCOSDBfeZIKD4.Az/u7tfV24HaJ3DuypTlmL35dhJ91bTu55iNtrertaPmr3I7VmIatgT42PT/iiBL1'
		} >"$dir/corpus/seed" ;;
	manifest) printf 'format = 1\nproduct = p\nversion = 1.0\nbuild-id = x\nimage = %064d 9 bank.img\nfile = %064d 3 boot/a\n' 0 0 >"$dir/corpus/seed" ;;
	bundle) for b in "$OUT"/test/variants/v2.bundle "$OUT"/*.bundle; do
			# A seed per bundle: its manifest, signature and the start of its bank image.
			[ -f "$b" ] && head -c 65536 "$b" >"$dir/corpus/$(basename "$b")"
		done ;;
	hvimg) printf 'HVIMG1\n\0\0\20\0\0\0\0\0\0\1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\2\0\0\0\0\0\0' >"$dir/corpus/seed" ;;
	hvimg2) # the worked example of image/hvimg.h: a 1 MiB disk, 512 literal bytes at 0, boot/k at 0x20000
		python3 -c '
import struct, sys
h = b"HVIMG2\n\0" + struct.pack("<QQQ", 1 << 20, 1, 2) + b"boot/k".ljust(64, b"\0") + struct.pack("<Q", 5000)
h += b"\xab" * 32 + struct.pack("<QQQQ", 0, 512, (1 << 64) - 1, 0) + struct.pack("<QQQQ", 0x20000, 5000, 0, 0)
sys.stdout.buffer.write(h + b"\x55" * 512)' >"$dir/corpus/seed" ;;
	bootstate) { printf '# GRUB Environment Block\nseq=1\nA_state=good\nA_tries=0\nA_gen=1\n'
		printf 'B_state=trial\nB_tries=3\nB_gen=2\nseqend=1\n'; } >"$dir/corpus/seed"
		truncate -s 1024 "$dir/corpus/seed"; sed -i 's/\x0/#/g' "$dir/corpus/seed" ;;
	esac
	# shellcheck disable=SC2086
	if ! clang $CFLAGS -o "$dir/fuzz-$t" "tests/fuzz/fuzz-$t.c" $SRC $LIBS >"$dir/build.log" 2>&1; then
		echo "not ok $n - fuzz-$t: does not build"; cat "$dir/build.log"; failed=1; continue
	fi
	if "$dir/fuzz-$t" -max_total_time="$SECS" -max_len=4096 -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$dir/" "$dir/corpus" >"$dir/run.log" 2>&1; then
		echo "ok $n - fuzz-$t: $(grep -o 'Done [0-9]* runs' "$dir/run.log" | tail -n 1) in $SECS s, no crash"
	else
		echo "not ok $n - fuzz-$t: crashed; the input is in $dir/crash-*"; tail -n 30 "$dir/run.log"; failed=1
	fi
done
exit $failed
