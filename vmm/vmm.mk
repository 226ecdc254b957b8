# vmm, the KVM virtual machine monitor (issue 5), included by the Makefile. Builds out/bin/vmm for
# the host, the device-model unit tests (tests/unit/vmm/), and out/test/guest-bzImage, the small
# guest kernel the integration tests boot (recipes/guest-kernel, built once by imgbuild and cached).
VMM_SRC = vmm/config.c vmm/mem.c vmm/bus.c vmm/kvm.c vmm/cpu.c vmm/console.c \
          vmm/devices/serial.c vmm/devices/i8042.c vmm/devices/virtq.c vmm/devices/virtio-mmio.c \
          vmm/devices/virtio-blk.c vmm/devices/virtio-net.c vmm/x86/boot.c vmm/x86/mptable.c
VMM_HDR = vmm/*.h vmm/devices/*.h vmm/x86/*.h
VMM_LIBS = -lpthread

# More specific than the Makefile's patterns, so these win for vmm/ and tests/unit/vmm/.
$(OUT)/obj/plain/vmm/%.o: vmm/%.c $(VMM_HDR)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Ivmm -c -o $@ $<
$(OUT)/obj/asan/vmm/%.o: vmm/%.c $(VMM_HDR)
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -O1 $(SAN) -Ivmm -c -o $@ $<

$(OUT)/obj/musl/vmm/%.o: vmm/%.c $(VMM_HDR)
	@mkdir -p $(@D)
	$(Q)$(MUSL_CC) $(MUSL_CFLAGS) -Ivmm -c -o $@ $<

$(OUT)/bin/vmm: $(VMM_SRC:%.c=$(OUT)/obj/plain/%.o) $(OUT)/obj/plain/vmm/main.o
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(VMM_LIBS)

# The appliance's vmm (recipes/vmm): static with musl, stripped (the image has a 32 MB budget).
# Linked folder by folder, each sorted, so that the binary does not change with the order of
# VMM_SRC.
VMM_ALL = $(VMM_SRC) vmm/main.c
VMM_LINK_ORDER = $(sort $(filter-out vmm/devices/% vmm/x86/%,$(VMM_ALL))) $(sort $(filter vmm/devices/%,$(VMM_ALL))) \
                 $(sort $(filter vmm/x86/%,$(VMM_ALL)))
$(OUT)/target/vmm: $(VMM_LINK_ORDER:%.c=$(OUT)/obj/musl/%.o)
	@mkdir -p $(@D)
	$(Q)$(MUSL_CC) -static -s -o $@ $^ $(VMM_LIBS)

# Static pattern rules: a plain pattern rule would lose to the Makefile's general one whenever
# the objects are not built yet (make does not chain through a pattern rule's plain prerequisites).
VMM_TESTS = $(patsubst vmm/%,%,$(filter vmm/%,$(UNIT_TESTS)))
$(VMM_TESTS:%=$(OUT)/test/plain/vmm/%): $(OUT)/test/plain/vmm/%: tests/unit/vmm/%.c $(VMM_SRC:%.c=$(OUT)/obj/plain/%.o) tests/unit/tap.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Ivmm -Itests/unit -o $@ $< $(VMM_SRC:%.c=$(OUT)/obj/plain/%.o) $(VMM_LIBS)
$(VMM_TESTS:%=$(OUT)/test/asan/vmm/%): $(OUT)/test/asan/vmm/%: tests/unit/vmm/%.c $(VMM_SRC:%.c=$(OUT)/obj/asan/%.o) tests/unit/tap.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -O1 $(SAN) -Ivmm -Itests/unit -o $@ $< $(VMM_SRC:%.c=$(OUT)/obj/asan/%.o) $(VMM_LIBS)

# The guest kernel takes ~10 minutes to build once; imgbuild's package store keeps it (for every
# checkout on the machine) until its recipe or kernel/guest.config change.
VMM_TEST_PROFILE = recipes/images/vmm-test.image
$(OUT)/test/guest-bzImage: recipes/guest-kernel/guest-kernel.recipe kernel/guest.config $(VMM_TEST_PROFILE) | $(OUT)/bin/imgbuild
	$(OUT)/bin/imgbuild -o $(OUT) $(STORE_ARGS) -j $(JOBS) packages $(VMM_TEST_PROFILE)
	@mkdir -p $(@D)
	tar --zstd -xOf $$($(OUT)/bin/imgbuild -o $(OUT) $(STORE_ARGS) list $(VMM_TEST_PROFILE) | \
		awk '$$1 == "guest-kernel" { print $$5 }') boot/guest-bzImage >$@.tmp
	mv $@.tmp $@

all: $(OUT)/bin/vmm
check: $(OUT)/test/guest-bzImage
.PHONY: vmm-guest-kernel
vmm-guest-kernel: $(OUT)/test/guest-bzImage

# `make bench` also compares vmm with QEMU (microvm and q35) under nested KVM: tests/bench-vmm.sh.
.PHONY: vmm-bench
vmm-bench: $(OUT)/test/guest-bzImage $(OUT)/bin/imgbuild
	OUT=$(OUT) bash tests/bench-vmm.sh
bench: vmm-bench
