#!/bin/bash
# tests/integration/vmm-lib.sh - running vmm where real KVM exists, for the 50-vmm.* tests.
#
# The build machines' /dev/kvm cannot boot Linux in useful time, so vmm runs one level down: in a
# QEMU/TCG guest with -cpu max (nested AMD SVM), whose kernel (the image's) loads kvm_amd. That guest's
# initramfs holds busybox, vmm (the image's static build), the kvm modules, the small guest kernel
# (out/test/guest-bzImage) and a one-file guest initramfs (vmm-guest-init.c).
#
#   vmm_nested_prepare DIR      build DIR/outer.cpio (packages from recipes/images/vmm-test.image)
#   vmm_nested_run DIR SCRIPT TIMEOUT_S
#                               boot it; /init runs SCRIPT (a file, sh) after loading kvm_amd and
#                               writes the serial log to DIR/serial.log; returns QEMU's status
# In SCRIPT: /bin/vmm, /guest/bzImage, /guest/initrd.cpio, /bin/vmm-guest-init (the outer-side
# helper), and $VMM_CMD = the usual arguments. Lines starting "VMMHOST " are for the test to read.

VMM_PROFILE=recipes/images/vmm-test.image

# vmm_pkg NAME: the path of NAME's package for the test profile.
vmm_pkg() {
    "$OUT/bin/imgbuild" -o "$OUT" list "$VMM_PROFILE" | awk -v n="$1" '$1 == n { print $5 }'
}

vmm_nested_prepare() {
    local dir=$1 root=$1/root kver m
    "$OUT/bin/imgbuild" -o "$OUT" packages "$VMM_PROFILE" >"$dir/imgbuild.log" 2>&1 || {
        echo "imgbuild packages $VMM_PROFILE failed:"; tail -n 20 "$dir/imgbuild.log"; return 1; }
    mkdir -p "$root/guest" "$root/kmod" "$dir/groot/dev" "$dir/groot/proc"
    tar --zstd -xf "$(vmm_pkg busybox)" -C "$root" bin
    tar --zstd -xf "$(vmm_pkg vmm)" -C "$root" usr/bin/vmm && mv "$root/usr/bin/vmm" "$root/bin/vmm"
    tar --zstd -xf "$(vmm_pkg kernel)" -C "$dir" boot lib/modules
    kver=$(ls "$dir/lib/modules")
    cp "$dir/boot/vmlinuz-$kver" "$dir/vmlinuz"
    # kvm-amd and tun with what they need, from modules.dep (Debian's kvm-amd needs ccp, ours
    # does not; a built-in one has no line): dependencies first, in /kmod/order.
    : >"$root/kmod/order"
    for m in kvm-amd tun; do
        local line deps f
        line=$(grep "/$m\.ko:" "$dir/lib/modules/$kver/modules.dep") || continue
        deps=${line#*:}
        for f in $(printf '%s\n' $deps | tac) "${line%%:*}"; do
            grep -qx "${f##*/}" "$root/kmod/order" && continue
            cp "$dir/lib/modules/$kver/$f" "$root/kmod/" || return 1
            echo "${f##*/}" >>"$root/kmod/order"
        done
    done
    rm -rf "$dir/lib" "$dir/boot"
    cp "$OUT/test/guest-bzImage" "$root/guest/bzImage" || return 1
    musl-gcc -static -Os -s -Wall -Wextra -Werror -o "$dir/groot/init" tests/integration/vmm-guest-init.c || return 1
    cp "$dir/groot/init" "$root/bin/vmm-guest-init"
    (cd "$dir/groot" && find . | cpio -o -H newc --quiet) >"$root/guest/initrd.cpio"
    cat >"$root/init" <<'INIT'
#!/bin/sh
mkdir -p /proc /sys /dev /tmp
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /kmod/order); do insmod /kmod/$m >/dev/null 2>&1 || echo "VMMHOST insmod $m failed"; done
[ -c /dev/kvm ] || echo "VMMHOST no /dev/kvm: $(grep -c svm /proc/cpuinfo) CPUs with svm"
VMM_CMD="--kernel /guest/bzImage --initrd /guest/initrd.cpio --mem 64M"
export VMM_CMD
cd /tmp && sh /test.sh 2>&1
echo "VMMHOST done"
poweroff -f
INIT
    chmod +x "$root/init"
}

vmm_nested_run() {
    local dir=$1 script=$2 timeout_s=$3
    cp "$script" "$dir/root/test.sh"
    (cd "$dir/root" && find . | cpio -o -H newc --quiet) >"$dir/outer.cpio"
    timeout -k 5 "$timeout_s" qemu-system-x86_64 -accel tcg -cpu max -machine q35 -smp ${VMM_TCG_SMP:-1} -m 768 \
        -kernel "$dir/vmlinuz" -initrd "$dir/outer.cpio" -append "console=ttyS0 quiet panic=-1" \
        -display none -monitor none -no-reboot -nic none -serial "file:$dir/serial.log" </dev/null
}
