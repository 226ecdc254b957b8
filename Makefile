# The entry point: `make` sets up the host and builds the images; `make check` runs every test.
# The work is done by out/bin/imgbuild (builder/); this file builds the host tools and calls it.
.SUFFIXES:

OUT      = out
VERSION  = $(shell cat VERSION)
JOBS     = $(shell nproc)
PROFILE  = recipes/images/hypervisor.image
NAME     = $(shell sed -n 's/^name *= *//p' $(PROFILE))
ISO      = $(OUT)/$(NAME)-$(VERSION).iso
SOURCE_DATE_EPOCH = $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH

CC       = gcc
# Quiet unless V=1.
Q        = $(if $(filter 1,$(V)),,@)
WARN     = -Wall -Wextra -Werror
CFLAGS   = -std=gnu11 -O2 -g $(WARN)
CPPFLAGS = -Ilib -Ibuilder -Ibootbank -Ialtbootbank -Ipackages/init -Isigning
LIBS     = -larchive -lcrypto -lblkid

LIB_SRC     = lib/util.c lib/kv.c lib/hash.c lib/run.c
BUILDER_SRC = builder/recipe.c builder/profile.c builder/graph.c \
              builder/fetch.c builder/pkg.c builder/build.c builder/image.c \
              builder/initramfs.c builder/kmod.c builder/tree.c builder/iso.c builder/disk.c builder/extents.c builder/write.c builder/sign.c
HDR         = lib/*.h builder/*.h bootbank/*.h altbootbank/*.h signing/*.h packages/init/ks.h packages/init/gpt.h

# The signing key: without SIGNING_KEY, imgbuild makes a development key in out/keys on the
# first build (never committed). SIGNING_KEY=path/prefix (prefix.key, prefix.crt) or a PKCS#11
# URI with SIGNING_CERT=cert.pem names a production key, used where it is and never copied.
# KEYRING=file.pem adds certificates the image trusts (for a key rotation).
SIGN_ARGS = $(if $(SIGNING_KEY),--signing-key $(SIGNING_KEY)) $(if $(SIGNING_CERT),--signing-cert $(SIGNING_CERT)) \
            $(if $(KEYRING),--keyring $(KEYRING))

all: setup $(OUT)/bin/imgbuild $(OUT)/bin/bankctl $(OUT)/bin/imgsign
	$(OUT)/bin/imgbuild -o $(OUT) -j $(JOBS) --image-version $(VERSION) $(SIGN_ARGS) build $(PROFILE)

setup: $(OUT)/.setup-done
$(OUT)/.setup-done: builder/host-packages builder/setup.sh
	sh builder/setup.sh builder/host-packages
	mkdir -p $(OUT) && touch $@

SAN        = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
UNIT_TESTS = builder/test-recipe builder/test-profile builder/test-graph builder/test-kmod \
             builder/test-hash builder/test-pkg bootbank/test-bank altbootbank/test-bundle init/test-ks init/test-gpt signing/test-signing
BANK_SRC   = bootbank/bank.c bootbank/hvimg.c packages/init/ks.c packages/init/gpt.c altbootbank/bundle.c altbootbank/bundle-write.c altbootbank/bootdisk.c altbootbank/bootstate.c \
             altbootbank/stage.c altbootbank/trust.c
SIGN_SRC   = signing/sign.c signing/verify.c
LIB_OBJ    = $(LIB_SRC:%.c=%.o) $(BUILDER_SRC:%.c=%.o) $(BANK_SRC:%.c=%.o) $(SIGN_SRC:%.c=%.o)
UNIT_TESTS += vmm/test-virtq vmm/test-devices vmm/test-config vmm/test-boot
include vmm/vmm.mk

# Objects in two flavours: plain (the tools, valgrind runs) and asan (ASan+UBSan test runs).
$(OUT)/obj/plain/%.o: %.c $(HDR)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(CPPFLAGS) -c -o $@ $<
$(OUT)/obj/asan/%.o: %.c $(HDR)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -O1 $(SAN) $(CPPFLAGS) -c -o $@ $<

$(OUT)/bin/imgbuild: $(LIB_OBJ:%=$(OUT)/obj/plain/%) $(OUT)/obj/plain/builder/main.o | setup
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(OUT)/test/plain/%: tests/unit/%.c $(LIB_OBJ:%=$(OUT)/obj/plain/%) tests/unit/tap.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(CPPFLAGS) -Itests/unit -o $@ $< $(LIB_OBJ:%=$(OUT)/obj/plain/%) $(LIBS)
$(OUT)/test/asan/%: tests/unit/%.c $(LIB_OBJ:%=$(OUT)/obj/asan/%) tests/unit/tap.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -O1 $(SAN) $(CPPFLAGS) -Itests/unit -o $@ $< $(LIB_OBJ:%=$(OUT)/obj/asan/%) $(LIBS)

unit-tests: $(UNIT_TESTS:%=$(OUT)/test/plain/%) $(UNIT_TESTS:%=$(OUT)/test/asan/%)

$(OUT)/bin/bankctl: $(LIB_OBJ:%=$(OUT)/obj/plain/%) $(OUT)/obj/plain/altbootbank/bankctl.o | setup
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(OUT)/bin/imgsign: $(LIB_OBJ:%=$(OUT)/obj/plain/%) $(OUT)/obj/plain/signing/imgsign.o | setup
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

tools: $(OUT)/bin/imgbuild $(OUT)/bin/bankctl $(OUT)/bin/imgsign

check: all unit-tests
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

.PHONY: all setup tools unit-tests check bench fuzz run clean distclean
