# Runs inside the TCG guest (see vmm-lib.sh): each case runs vmm once and prints its console and
# messages as "VMMHOST <case> <uptime> <line>", then "VMMHOST <case> <uptime> EXIT <status>".
G="console=ttyS0 quiet"

# run CASE VMM-ARGS...: run vmm in the foreground.
run() {
	c=$1; shift
	echo "VMMHOST $c $(cut -d' ' -f1 /proc/uptime) START"
	{ timeout 150 vmm "$@" 2>&1; echo "EXIT $?"; } </dev/null |
		while IFS= read -r l; do echo "VMMHOST $c $(cut -d' ' -f1 /proc/uptime) $l"; done
}

run boot $VMM_CMD --cmdline "$G vmmtest=poweroff"
run smp $VMM_CMD --cpus 2 --cmdline "$G vmmtest=poweroff"
run reboot $VMM_CMD --cmdline "$G vmmtest=reboot"

truncate -s 16M /tmp/disk.img
run disk $VMM_CMD --disk /tmp/disk.img --cmdline "$G vmmtest=disk"
vmm-guest-init check-disk /tmp/disk.img

tunctl -t tap0 >/dev/null && ip addr add 10.0.2.2/24 dev tap0 && ip link set tap0 up
vmm-guest-init peer &
run net $VMM_CMD --net tap0 --cmdline "$G vmmtest=net"
kill $! 2>/dev/null

truncate -s 1M /tmp/disk2.img
cat >/tmp/vm.cfg <<CFG
# a VM as the management daemon writes it
name = test-vm
cpus = 2
memory = 64M
kernel = /guest/bzImage
initrd = /guest/initrd.cpio
cmdline = $G vmmtest=poweroff
disk = disk2.img
CFG
run config --config /tmp/vm.cfg

# SIGTERM while the guest runs: vmm stops it and exits 3.
(sleep 1; while ! grep -q marker /tmp/sig.out 2>/dev/null; do sleep 0.2; done
 kill -TERM "$(pidof vmm)") &
{ timeout 150 vmm $VMM_CMD --cmdline "$G vmmtest=wait" >/tmp/sig.out 2>&1; echo "EXIT $?" >>/tmp/sig.out; } </dev/null
sed "s/^/VMMHOST sigterm 0 /" /tmp/sig.out

# The console on a UNIX socket: the client sees the marker and types a line the guest echoes.
vmm $VMM_CMD --console unix:/tmp/con.sock --cmdline "$G vmmtest=echo" </dev/null >/tmp/sock.out 2>&1 &
timeout 150 vmm-guest-init console /tmp/con.sock | sed "s/^/VMMHOST socket 0 /"
wait $!
echo "VMMHOST socket 0 EXIT $?"
sed "s/^/VMMHOST socket 0 /" /tmp/sock.out
