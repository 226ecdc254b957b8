# The entry point: `make` sets up the host and builds the images; `make check` runs every test.
# The work is done by out/bin/imgbuild (builder/); this file builds the host tools and calls it.
.SUFFIXES:

OUT      = out
VERSION  = $(shell cat VERSION)
JOBS     = $(shell nproc)
PROFILE  = recipes/images/hypervisor.image
NAME     = $(shell sed -n 's/^name *= *//p' $(PROFILE))
ISO      = $(OUT)/$(NAME)-$(VERSION).iso
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH

CC       = gcc
MUSL_CC  = musl-gcc
# Quiet unless V=1.
Q        = $(if $(filter 1,$(V)),,@)
WARN     = -Wall -Wextra -Werror
CFLAGS   = -std=gnu11 -O2 -g $(WARN)
CPPFLAGS = -Ilib -Ibootbank -Iimage -Isigning -Ibuilder -Ialtbootbank -Ipackages/init -Ipackages/installer -Ipackages/logd \
           -Ipackages/auth -Ipackages/hostcfg -Ipackages/hostd -Ipackages/hostctl -Ipackages/dcui
LIBS     = -larchive -lcrypto -lblkid -lcrypt
# hostcfg's: libarchive for the state archive, zlib to check its gzip stream whole, libxcrypt.
HOSTCFG_LIBS = -larchive -lz -lcrypt
# hostd's: libevent's event loop, OpenSSL for TLS, jansson for JSON (recipes/runtime carries them
# shared), Debian's http-parser linked in (packages/hostd/server.h says why not evhttp).
HOSTD_LIBS   = -Wl,-Bstatic -lhttp_parser -Wl,-Bdynamic -levent_core -ljansson -lssl -lcrypto
# hostctl's: OpenSSL for TLS, jansson for JSON (both in recipes/runtime).
HOSTCTL_LIBS = -ljansson -lssl -lcrypto

# One object list per program: each links what it uses and nothing else (docs/building.md,
# "Layout"). The libraries, lowest first; nothing includes or calls a folder listed after it:
#   lib/          helpers; LIB_CORE is libc only (host tools and the static target programs)
#   signing/      keys, CMS signatures, the keyring (libcrypto)
#   bootbank/     the boot state (format, choice, commit), GPT helpers; bootdisk.c: the installed
#                 disk seen from the host (libblkid; fat.c reads its FAT file systems, mtools writes)
#   image/        the sparse image (HVIMG1; HVIMG2, the installer's; extents, writing one to a disk) and
#                 update bundles; hvimg-pack.c (HVIMG2, SHA-256) is for the host tools only
LIB_CORE      = lib/diag.c lib/sysfile.c lib/kv.c
LIB_HOST      = lib/util.c lib/kvcheck.c lib/hash.c lib/run.c $(LIB_CORE)
BOOTBANK_CORE = bootbank/bank.c bootbank/bootstate.c bootbank/gpt.c
IMAGE_CORE    = image/hvimg.c image/extents.c lib/worker.c
BUNDLE_READ   = image/bundle.c $(IMAGE_CORE) signing/verify.c

BUILDER_LIB   = builder/recipe.c builder/profile.c builder/graph.c builder/fetch.c builder/pkg.c builder/build.c \
                builder/image.c builder/initramfs.c builder/kmod.c builder/drivers.c builder/tree.c builder/iso.c builder/disk.c \
                builder/sign.c builder/verify.c
imgbuild_SRC  = builder/main.c $(BUILDER_LIB) image/write.c image/bundle-write.c image/hvimg-pack.c $(BUNDLE_READ) \
                signing/sign.c bootbank/bank.c bootbank/fat.c $(LIB_HOST)
STAGE_LIB     = altbootbank/stage.c altbootbank/trust.c
bankctl_SRC   = altbootbank/bankctl.c $(STAGE_LIB) bootbank/bootdisk.c bootbank/fat.c bootbank/bootmount.c $(BOOTBANK_CORE) \
                image/write.c $(BUNDLE_READ) $(LIB_HOST)
imgsign_SRC   = image/imgsign.c signing/sign.c $(BUNDLE_READ) $(LIB_HOST)
# The appliance's own programs: init (PID 1) and the installer static with musl; bankctl and logd
# with glibc and OpenSSL shared (recipes/runtime; libarchive, libcrypto and libblkid have no musl
# builds in Debian).
init_SRC      = packages/init/init.c packages/init/early.c packages/init/modules.c packages/init/watchdog.c \
                packages/init/payload.c packages/init/config.c packages/init/health.c packages/init/bank.c \
                packages/init/shell.c packages/init/log.c packages/init/drivers.c packages/init/modalias.c \
                packages/init/service.c packages/init/supervise.c lib/medium.c $(BOOTBANK_CORE) $(LIB_CORE)
# logd, the host's syslog daemon: glibc and OpenSSL as shared libraries (recipes/runtime), the one
# TLS library of the image.
logd_SRC      = packages/logd/logd.c packages/logd/msg.c packages/logd/conf.c packages/logd/fwd.c lib/util.c lib/kvcheck.c \
                $(LIB_CORE)
# login, the console's way in: packages/auth (the shadow hash with libxcrypt, the lockout), which
# hostd and the DCUI will share.
login_SRC     = packages/login/login.c packages/auth/auth.c
installer_SRC = packages/installer/installer.c packages/installer/ks.c lib/medium.c $(BOOTBANK_CORE) $(IMAGE_CORE) $(LIB_CORE)
# hostcfg (packages/hostcfg): the host's configuration model (HOSTCFG_LIB, on lib/ only) and its
# command; on the appliance with libarchive linked in and glibc and libxcrypt shared, and a host
# tool for tests.
HOSTCFG_LIB   = packages/hostcfg/hostconfig.c packages/hostcfg/apply.c packages/hostcfg/state.c
hostcfg_SRC   = packages/hostcfg/hostcfg.c packages/hostcfg/commit.c packages/hostcfg/save.c packages/hostcfg/restore.c \
                $(HOSTCFG_LIB) lib/util.c lib/kvcheck.c $(LIB_CORE)
# hostd (packages/hostd, docs/api.md), the management API: HTTPS and a UNIX socket; changes the
# configuration through hostcfg's library and commit (the same code as `hostcfg set`), checks
# passwords through packages/auth.
HOSTD_API     = packages/hostd/api.c
# VMs (packages/hostd/vms.c, its NICs vmnet.c, docs/vms.md): the definitions' checks pure in vmdef.c (unit tests, fuzz).
HOSTD_VMDEF   = packages/hostd/vmdef.c
hostd_SRC     = packages/hostd/hostd.c packages/hostd/server.c packages/hostd/call.c packages/hostd/tls.c packages/hostd/facts.c packages/hostd/reply.c packages/hostd/host.c packages/hostd/users.c packages/hostd/banks.c \
                packages/hostd/datastore.c lib/run.c packages/hostd/cert.c packages/hostd/vms.c packages/hostd/vmnet.c \
                $(HOSTD_VMDEF) $(HOSTD_API) packages/auth/auth.c packages/auth/cache.c packages/hostcfg/commit.c \
                packages/hostcfg/save.c $(HOSTCFG_LIB) lib/util.c lib/kvcheck.c $(LIB_CORE)
# hostctl (packages/hostctl, docs/hostctl.md), hostd's command-line client: HOSTCTL_LIB is its pure
# part (options, tables, the HTTP answer's framing: unit-tested and fuzzed); http.c its I/O.
HOSTCTL_LIB   = packages/hostctl/args.c packages/hostctl/table.c packages/hostctl/resp.c
hostctl_SRC   = packages/hostctl/hostctl.c packages/hostctl/http.c $(HOSTCTL_LIB)
# dcui (packages/dcui, docs/dcui.md), the Direct Console UI: ncurses; logins through packages/auth,
# changes through hostcfg's library and commit, as hostd's.
DCUI_LIB      = packages/dcui/keys.c packages/dcui/model.c
dcui_SRC      = packages/dcui/dcui.c packages/dcui/act.c $(DCUI_LIB) packages/auth/auth.c packages/hostcfg/commit.c \
                packages/hostcfg/save.c $(HOSTCFG_LIB) lib/util.c lib/kvcheck.c $(LIB_CORE)
DCUI_LIBS     = -lncursesw -ltinfo

HDR      = lib/*.h builder/*.h bootbank/*.h image/*.h altbootbank/*.h signing/*.h packages/init/*.h packages/installer/*.h \
           $(wildcard packages/logd/*.h packages/auth/*.h packages/hostcfg/*.h packages/hostd/*.h packages/hostd/*.def \
                      packages/hostctl/*.h packages/dcui/*.h)
# What the unit tests link: every library above (not the programs' main files).
UNIT_LIB = $(sort $(BUILDER_LIB) image/write.c image/bundle-write.c image/hvimg-pack.c $(BUNDLE_READ) signing/sign.c \
           $(STAGE_LIB) bootbank/bootdisk.c bootbank/fat.c bootbank/bootmount.c $(BOOTBANK_CORE) packages/installer/ks.c \
           packages/init/modalias.c packages/init/service.c lib/medium.c packages/logd/msg.c packages/logd/conf.c packages/auth/auth.c \
           packages/auth/cache.c $(HOSTCFG_LIB) $(HOSTD_API) $(HOSTD_VMDEF) packages/hostd/server.c $(HOSTCTL_LIB) $(DCUI_LIB) \
           $(LIB_HOST))

# The signing key: without SIGNING_KEY, imgbuild makes a development key in out/keys on the
# first build (never committed). SIGNING_KEY=path/prefix (prefix.key, prefix.crt) or a PKCS#11
# URI with SIGNING_CERT=cert.pem names a production key, used where it is and never copied.
# KEYRING=file.pem adds certificates the image trusts (for a key rotation).
SIGN_ARGS = $(if $(SIGNING_KEY),--signing-key $(SIGNING_KEY)) $(if $(SIGNING_CERT),--signing-cert $(SIGNING_CERT)) \
            $(if $(KEYRING),--keyring $(KEYRING))

# The package store, shared by every checkout on the machine (imgbuild --help, --store): the
# default is $IMGBUILD_STORE or ~/.cache/imgbuild/pkgs; `make STORE=dir` names another.
STORE_ARGS = $(if $(STORE),--store $(STORE))

all: setup $(OUT)/bin/imgbuild $(OUT)/bin/bankctl $(OUT)/bin/imgsign $(OUT)/bin/logd $(OUT)/bin/hostcfg $(OUT)/bin/hostd $(OUT)/bin/hostctl $(OUT)/bin/dcui
	$(OUT)/bin/imgbuild -o $(OUT) $(STORE_ARGS) -j $(JOBS) --image-version $(VERSION) $(SIGN_ARGS) build $(PROFILE)

setup: $(OUT)/.setup-done
$(OUT)/.setup-done: builder/host-packages builder/setup.sh
	sh builder/setup.sh builder/host-packages
	mkdir -p $(OUT) && touch $@

SAN        = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UNIT_TESTS = builder/test-recipe builder/test-profile builder/test-graph builder/test-kmod builder/test-drivers builder/test-disk \
             builder/test-hash builder/test-pkg bootbank/test-bank bootbank/test-gpt image/test-bundle \
             installer/test-ks signing/test-signing bootbank/test-bootstate image/test-extents lib/test-worker bootbank/test-bootdisk \
             altbootbank/test-stage altbootbank/test-trust image/test-hvimg init/test-modalias init/test-service \
             logd/test-msg logd/test-conf auth/test-auth auth/test-cache hostcfg/test-hostcfg hostd/test-api dcui/test-dcui \
             hostd/test-vmdef hostctl/test-hostctl bootbank/test-fat init/test-medium
UNIT_TESTS += vmm/test-virtq vmm/test-devices vmm/test-config vmm/test-boot
include vmm/vmm.mk

# Objects in four flavours: plain (the host tools, valgrind runs), asan (ASan+UBSan test runs),
# musl and static (the appliance's programs, musl or glibc; "static" is the flavour's name from
# when every one was; -ffile-prefix-map keeps the build folder's path out of them, so that builds
# repeat).
TARGET_CFLAGS = -std=gnu11 -Os $(WARN) -ffile-prefix-map=$(CURDIR)=.
# musl's include path has no kernel headers: take the uapi ones (linux/loop.h) after its own.
MUSL_CFLAGS   = $(TARGET_CFLAGS) -idirafter /usr/include -idirafter /usr/include/x86_64-linux-gnu
$(OUT)/obj/plain/%.o: %.c $(HDR)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(CPPFLAGS) -c -o $@ $<
$(OUT)/obj/asan/%.o: %.c $(HDR)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -O1 $(SAN) $(CPPFLAGS) -c -o $@ $<
$(OUT)/obj/musl/%.o: %.c $(HDR)
	@mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) $(CPPFLAGS) -c -o $@ $<
$(OUT)/obj/static/%.o: %.c $(HDR)
	@mkdir -p $(@D)
	$(Q)$(CC) $(TARGET_CFLAGS) $(CPPFLAGS) -c -o $@ $<

# The host tools.
$(OUT)/bin/imgbuild: $(imgbuild_SRC:%.c=$(OUT)/obj/plain/%.o) | setup
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)
# bankctl: libarchive and libblkid linked in as on the appliance (STATIC_LIBS, below): Debian's
# shared libarchive loads libxml2, ICU and libstdc++, 8 ms of every run's start-up.
$(OUT)/bin/bankctl: $(bankctl_SRC:%.c=$(OUT)/obj/plain/%.o) | setup
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(STATIC_LIBS) 2>$@.link.log || { cat $@.link.log; exit 1; }
$(OUT)/bin/imgsign: $(imgsign_SRC:%.c=$(OUT)/obj/plain/%.o) | setup
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)
$(OUT)/bin/logd: $(logd_SRC:%.c=$(OUT)/obj/plain/%.o) | setup
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lssl -lcrypto
$(OUT)/bin/hostcfg: $(hostcfg_SRC:%.c=$(OUT)/obj/plain/%.o) | setup
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(HOSTCFG_LIBS)
$(OUT)/bin/hostd: $(hostd_SRC:%.c=$(OUT)/obj/plain/%.o) | setup
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(HOSTCFG_LIBS) $(HOSTD_LIBS)
$(OUT)/bin/hostctl: $(hostctl_SRC:%.c=$(OUT)/obj/plain/%.o) | setup
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(HOSTCTL_LIBS)
$(OUT)/bin/dcui: $(dcui_SRC:%.c=$(OUT)/obj/plain/%.o) | setup
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(HOSTCFG_LIBS) $(DCUI_LIBS)

# The appliance's programs, built by their recipes (recipes/init, recipes/installer,
# recipes/bankctl) with `make OUT=<work dir> <work dir>/target/<program>`.
$(OUT)/target/init: $(init_SRC:%.c=$(OUT)/obj/musl/%.o)
	@mkdir -p $(@D)
	$(Q)$(MUSL_CC) -static -s -o $@ $^
$(OUT)/target/installer: $(installer_SRC:%.c=$(OUT)/obj/musl/%.o)
	@mkdir -p $(@D)
	$(Q)$(MUSL_CC) -static -s -o $@ $^
# login links glibc and libxcrypt (recipes/runtime) dynamically; $(OUT)/test/login is the tests'.
$(OUT)/target/login: $(login_SRC:%.c=$(OUT)/obj/static/%.o)
	@mkdir -p $(@D)
	$(Q)$(CC) -s -o $@ $^ -lcrypt
$(OUT)/test/login: $(login_SRC:%.c=$(OUT)/obj/plain/%.o)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ -lcrypt
# logd links glibc and OpenSSL dynamically: the image carries them once (recipes/runtime).
$(OUT)/target/logd: $(logd_SRC:%.c=$(OUT)/obj/static/%.o)
	@mkdir -p $(@D)
	$(Q)$(CC) -s -o $@ $^ -lssl -lcrypto
# bankctl links libarchive, libblkid and their compressors statically (Debian's shared libarchive
# pulls libxml2 and ICU), and glibc and libcrypto shared, from recipes/runtime, with logd.
STATIC_LIBS = -Wl,-Bstatic -larchive -lblkid -lzstd -llzma -lbz2 -lz -lxml2 -lnettle -Wl,-Bdynamic -lcrypto
$(OUT)/target/bankctl: $(bankctl_SRC:%.c=$(OUT)/obj/static/%.o)
	@mkdir -p $(@D)
	$(Q)$(CC) -s -o $@ $^ $(STATIC_LIBS) 2>$@.link.log || { cat $@.link.log; exit 1; }
# hostcfg: libarchive linked in as for bankctl, glibc, libxcrypt and libcrypto shared
# (recipes/runtime). noxar.c keeps libarchive's writers of other formats out of the link (xar's
# would need ICU through libxml2); --gc-sections drops the unused functions of the libraries built
# with a section each.
$(OUT)/target/hostcfg: $(hostcfg_SRC:%.c=$(OUT)/obj/static/%.o) $(OUT)/obj/static/packages/hostcfg/noxar.o
	@mkdir -p $(@D)
	$(Q)$(CC) -s -Wl,--gc-sections -o $@ $^ $(STATIC_LIBS) -lcrypt 2>$@.link.log || { cat $@.link.log; exit 1; }
# hostd: libarchive linked in as for hostcfg; glibc, libxcrypt, OpenSSL, libevent and jansson shared
# (recipes/runtime).
$(OUT)/target/hostd: $(hostd_SRC:%.c=$(OUT)/obj/static/%.o) $(OUT)/obj/static/packages/hostcfg/noxar.o
	@mkdir -p $(@D)
	$(Q)$(CC) -s -Wl,--gc-sections -o $@ $^ $(STATIC_LIBS) -lcrypt $(HOSTD_LIBS) 2>$@.link.log || { cat $@.link.log; exit 1; }
# hostctl: glibc, OpenSSL and jansson shared (recipes/runtime).
$(OUT)/target/hostctl: $(hostctl_SRC:%.c=$(OUT)/obj/static/%.o)
	@mkdir -p $(@D)
	$(Q)$(CC) -s -o $@ $^ $(HOSTCTL_LIBS)
# dcui: libarchive linked in as for hostcfg; glibc, libxcrypt and ncurses (libncursesw, libtinfo)
# shared (recipes/runtime).
$(OUT)/target/dcui: $(dcui_SRC:%.c=$(OUT)/obj/static/%.o) $(OUT)/obj/static/packages/hostcfg/noxar.o
	@mkdir -p $(@D)
	$(Q)$(CC) -s -Wl,--gc-sections -o $@ $^ $(STATIC_LIBS) -lcrypt $(DCUI_LIBS) 2>$@.link.log || { cat $@.link.log; exit 1; }

$(OUT)/test/plain/%: tests/unit/%.c $(UNIT_LIB:%.c=$(OUT)/obj/plain/%.o) tests/unit/tap.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(CPPFLAGS) -Itests/unit -o $@ $< $(UNIT_LIB:%.c=$(OUT)/obj/plain/%.o) $(LIBS) $(HOSTCFG_LIBS) $(HOSTD_LIBS)
$(OUT)/test/asan/%: tests/unit/%.c $(UNIT_LIB:%.c=$(OUT)/obj/asan/%.o) tests/unit/tap.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -O1 $(SAN) $(CPPFLAGS) -Itests/unit -o $@ $< $(UNIT_LIB:%.c=$(OUT)/obj/asan/%.o) $(LIBS) $(HOSTCFG_LIBS) $(HOSTD_LIBS)

unit-tests: $(UNIT_TESTS:%=$(OUT)/test/plain/%) $(UNIT_TESTS:%=$(OUT)/test/asan/%) $(OUT)/test/login

# Power cuts at every write (tests/crash/crash.sh): the LD_PRELOAD shim that cuts, and the boot-state
# commit of init and the installer on plain files. Plain builds: the shim must come first in the
# preload list, which ASan refuses.
$(OUT)/test/crash/crashshim.so: tests/crash/crashshim.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -shared -fPIC -o $@ $< -ldl
$(OUT)/test/crash/statecommit: tests/crash/statecommit.c bootbank/bootstate.c bootbank/bank.c $(HDR)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(CPPFLAGS) -o $@ tests/crash/statecommit.c bootbank/bootstate.c bootbank/bank.c
crash-tools: $(OUT)/test/crash/crashshim.so $(OUT)/test/crash/statecommit

# Every crash point of every command, the installer's image write too, and 3 disks of each
# command booted in QEMU (needs tests/integration/fixtures.sh's bundles).
crash: all crash-tools
	OUT=$(OUT) VERSION=$(VERSION) CRASH_BOOTS=$${CRASH_BOOTS:-3} \
		CRASH_SCENARIOS="stage stage-over mark-good rollback init init-fresh install-state install-image" bash tests/crash/crash.sh

tools: $(OUT)/bin/imgbuild $(OUT)/bin/bankctl $(OUT)/bin/imgsign $(OUT)/bin/logd $(OUT)/bin/hostcfg $(OUT)/bin/hostd $(OUT)/bin/hostctl $(OUT)/bin/dcui

check: all unit-tests crash-tools
	OUT=$(OUT) UNIT_TESTS="$(UNIT_TESTS)" VERSION=$(VERSION) ISO=$(ISO) sh tests/run

bench: all
	OUT=$(OUT) VERSION=$(VERSION) ISO=$(ISO) bash tests/bench.sh

fuzz: setup
	OUT=$(OUT) FUZZ_SECONDS=$${FUZZ_SECONDS:-600} sh tests/fuzz/run.sh

run: all
	sh tests/integration/run-qemu.sh $(ISO)

# The download cache out/dl survives `make clean`; `make distclean` removes everything.
clean:
	find $(OUT) -mindepth 1 -maxdepth 1 ! -name dl -exec rm -rf {} +

distclean:
	rm -rf $(OUT)

# Keep the objects between runs.
.SECONDARY:

.PHONY: all setup tools unit-tests crash-tools crash check bench fuzz run clean distclean

# `make print-bankctl_SRC`: a variable's value (tests/integration/15-layering.programs.sh).
print-%:
	@echo $($*)
