# Runs inside the TCG guest (tests/bench-vmm.sh): each monitor boots the same guest kernel and
# initramfs with 64 MiB, a serial console and one virtio-blk disk; the guest prints its marker,
# times 32 MiB of O_DIRECT writes and reads on the disk, then waits to be killed.
# Prints "VMMBENCH <monitor> <key> <value>" lines.
G="console=ttyS0 quiet vmmtest=bench"
K=/guest/bzImage
I=/guest/initrd.cpio

# rss_beyond_ram PID: resident KiB of the process outside its guest-RAM mapping (>= 64 MiB).
rss_beyond_ram() {
	awk '/^Size:/ { size = $2 } /^Rss:/ { total += $2; if (size >= 65536) ram += $2 }
	     END { print total - ram, ram }' "/proc/$1/smaps"
}

# bench NAME PROCESS-NAME COMMAND...
bench() {
	name=$1 proc=$2
	shift 2
	rm -f /tmp/disk.img && truncate -s 64M /tmp/disk.img
	start=$(cut -d' ' -f1 /proc/uptime)
	{ "$@" </dev/null 2>&1 | while IFS= read -r l; do
		echo "$(cut -d' ' -f1 /proc/uptime) $l"; done >/tmp/$name.out; } &
	n=0
	sleep 1
	pid=$(pidof "$proc")
	while [ -n "$pid" ] && [ -d "/proc/$pid" ] && ! grep -q "read-MBps" /tmp/$name.out && [ $n -lt 300 ]; do
		sleep 0.5
		n=$((n + 1))
	done
	[ -d "/proc/$pid" ] || { echo "VMMBENCH $name failed: $proc exited"; tail -n 20 /tmp/$name.out; wait; return; }
	set -- $(rss_beyond_ram "$pid")
	grep -q "VMMTEST marker" /tmp/$name.out || { echo "VMMBENCH $name failed"; tail -n 20 /tmp/$name.out; }
	kill -9 $pid
	wait
	awk -v n="$name" -v s="$start" '/VMMTEST marker/ && !m { printf "VMMBENCH %s marker-s %.2f\n", n, $1 - s; m = 1 }
		/VMMTEST bench/ { printf "VMMBENCH %s %s %s\n", n, $4, $5 }' /tmp/$name.out
	echo "VMMBENCH $name rss-beyond-ram-KiB $1"
	echo "VMMBENCH $name guest-ram-resident-KiB $2"
}

Q="-accel kvm -cpu host -m 64 -smp 1 -nodefaults -no-user-config -display none -serial stdio -L /qemu"
D="-drive id=d,file=/tmp/disk.img,format=raw,if=none"
for round in 1 2; do
	bench vmm vmm vmm --kernel $K --initrd $I --mem 64M --disk /tmp/disk.img --cmdline "$G"
	bench microvm qemu-system-x86_64 qemu-system-x86_64 -M microvm,acpi=off,rtc=off $Q -kernel $K -initrd $I \
		-append "$G" $D -device virtio-blk-device,drive=d
	bench q35 qemu-system-x86_64 qemu-system-x86_64 -M q35 $Q -kernel $K -initrd $I -append "$G" $D \
		-device virtio-blk-pci,drive=d
done
