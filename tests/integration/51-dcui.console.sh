#!/bin/bash
# The DCUI (packages/dcui, docs/dcui.md) driven through its real terminal: the ISO booted live in
# QEMU (TCG) with a NIC on QEMU's user network, its serial console QEMU's stdio in a tmux pane of
# 80x24 (the screen read back with capture-pane, the keys sent as a terminal sends them, F2 and
# F12 included). The welcome screen shows the version, the bank and the management address; F2
# and root's login (no password on a fresh host) open the menu; a password set there is then
# required; a bad static address is refused naming the field; a host name and a static address
# set through the network menu are applied (the welcome screen shows them, and `hostname` in the
# shell login of its L key, after which the DCUI comes back; an operator is refused); the test screen pings
# the gateway; the log view shows the host's log; Restart Management Agents gives hostd a new pid;
# Reset System Configuration brings the defaults back; F12 with F11 restarts the host, which comes
# back to the DCUI.
. "$(dirname "$0")/common.sh"
command -v tmux >/dev/null || { echo "1..0 # SKIP tmux is not installed (apt-get install tmux)"; exit 77; }
t=$(mktemp -d)
sock=dcui51-$$
tm() { tmux -L "$sock" "$@"; }
trap 'tm kill-server 2>/dev/null; rm -rf "$t"' EXIT
n=0
FAILED=0
step() { n=$((n + 1)); if "$@"; then echo "ok $n - $WHAT"; else echo "not ok $n - $WHAT"; FAILED=1; fail_screen; fi; }
fail_screen() { echo "# screen:"; tm capture-pane -p -t q 2>/dev/null | sed 's/^/#   /'; }
screen() { tm capture-pane -p -t q; }
# see PATTERN [SECONDS]: the screen shows PATTERN (grep -E) within SECONDS (default 20).
see() {
	local deadline=$((SECONDS + ${2:-20}))
	while [ "$SECONDS" -lt "$deadline" ]; do
		screen | grep -qE -- "$1" && return 0
		sleep 0.5
	done
	screen | grep -qE -- "$1"
}
# keys KEY...: tmux key names (F2, Enter, Escape, BSpace, Down); type TEXT: literal text.
keys() { for k in "$@"; do tm send-keys -t q "$k"; sleep 0.3; done; }
type_() { tm send-keys -t q -l "$1"; sleep 0.3; }
# clear_field: the focused field emptied.
clear_field() { for _ in $(seq 24); do tm send-keys -t q BSpace; done; sleep 0.3; }
# boots: how many times the console said BOOT-OK.
boots() { tr -d '\r' <"$t/serial.log" | grep -ac '^BOOT-OK'; }

tm new-session -d -s q -x 80 -y 24 "timeout --foreground -k 5 600 qemu-system-x86_64 -accel tcg -m 1024 -display none \
	-monitor none -serial stdio -nic user,model=virtio-net-pci \
	-drive file=$ISO,format=raw,if=ide,media=cdrom,readonly=on -boot order=d; echo QEMU-EXITED; sleep 60"
tm pipe-pane -t q -o "cat >>$t/serial.log"
mkdir -p "$LOG_DIR"

WHAT="the welcome screen: product, version $VERSION, bank live, DHCP's address as https://10.0.2.15/, the keys"
step eval 'see "Version $VERSION, bank live" 180 && see "https://10\.0\.2\.15/" 60 &&
	see "<F2> Customize System/View Logs +<F12> Shut Down/Restart" 5 && see "<L> Shell login" 5 && see "Health: (ok|degraded)" 30'

WHAT="F2: authentication required; root without a password (a fresh host) opens System Customization"
step eval 'keys F2 && see "Authentication Required" 10 && see "Login Name: +\[root" 5 && keys Enter Enter &&
	see "System Customization" 10 && see "1 Configure Password" 5 && see "7 Shut Down/Restart" 5 &&
	see "root has no password: set one with 1 Configure Password" 5'

WHAT="Configure Password: two different passwords are refused; the same twice sets it"
step eval 'keys 1 && see "New Password:" 10 && type_ Dcui-pw1 && keys Enter && type_ other && keys Enter &&
	see "the two passwords differ" 10 && type_ Dcui-pw1 && keys Enter && type_ Dcui-pw1 && keys Enter &&
	see "The password is changed" 30 && keys Enter && see "1 Configure Password" 10 && ! screen | grep -q "has no password"'

WHAT="Esc logs out; F2 with a wrong password: Login incorrect; with the new one: the menu"
step eval 'keys Escape && see "<L> Shell login" 10 && keys F2 && see "Authentication Required" 10 && keys Enter &&
	type_ wrong && keys Enter && see "Login incorrect" 15 && keys Up && clear_field && type_ root && keys Enter &&
	type_ Dcui-pw1 && keys Enter && see "1 Configure Password" 15'

WHAT="Configure Management Network: a bad static address is refused, the field named"
step eval 'keys 2 && see "IPv4 \(dhcp\|static\): +\[dhcp" 10 && clear_field && type_ static && keys Down &&
	clear_field && type_ 10.0.2.999/24 && keys Down && clear_field && type_ 10.0.2.2 && keys Down && clear_field &&
	type_ 10.0.2.3 && keys Down && clear_field && type_ esx-dcui && keys Enter &&
	see "IPv4 Address/Prefix: network-address: .10\.0\.2\.999. is not an IPv4 address" 20'
WHAT="  ... nothing was applied: the host name is unchanged"
step eval '! screen | grep -q "configured and applied"'

WHAT="a static address and a host name: applied at once"
step eval 'clear_field && type_ 10.0.2.50/24 && keys Enter Enter Enter Enter && see "configured and applied" 60 &&
	see "Host name: esx-dcui" 15 && see "IPv4: static 10\.0\.2\.50/24" 15'
WHAT="  ... the welcome screen shows the new host name and https://10.0.2.50/"
step eval 'keys Enter Escape && see "Host name: esx-dcui" 15 && see "https://10\.0\.2\.50/" 15'

WHAT="L: a shell login on the console (root, the new password); hostname says esx-dcui; an operator added there"
step eval 'keys l && see "esx-dcui login: *$" 15 && type_ root && keys Enter && see "Password: *$" 10 && type_ Dcui-pw1 &&
	keys Enter && sleep 2 && type_ "hostname; echo Ops-pw-123 | hostcfg user add ops operator >/dev/null && echo added-\$((6*7))" &&
	keys Enter && see "^esx-dcui$" 15 && see "^added-42" 20'
WHAT="  ... exit: the DCUI is back; F2 as the operator: refused, saying who may"
step eval 'type_ exit && keys Enter && see "<L> Shell login" 20 && keys F2 && see "Authentication Required" 10 &&
	clear_field && type_ ops && keys Enter && type_ Ops-pw-123 && keys Enter &&
	see "ops may not use the console UI; log in as an administrator" 15; r=$?; keys Escape; [ "$r" = 0 ]'

WHAT="Test Management Network: the gateway and the DNS server prefilled and pinged, the host name resolved"
step eval 'keys F2 && see "Authentication Required" 10 && keys Enter && type_ Dcui-pw1 && keys Enter &&
	see "1 Configure Password" 15 && keys 3 && see "Ping Address #1: +\[10\.0\.2\.2 " 10 &&
	see "Ping Address #2: +\[10\.0\.2\.3 " 5 && see "Resolve Hostname: +\[esx-dcui" 5 && keys Enter Enter Enter Enter &&
	see "Ping 10\.0\.2\.2:" 60 && see "packets transmitted" 5 && see "Resolve esx-dcui:" 5'

WHAT="View System Logs: /var/log/messages, from its end (timestamped lines); Home: the kernel's first lines"
step eval 'keys Escape && see "1 Configure Password" 10 && keys 4 && see "System Log: /var/log/messages" 10 &&
	see "^ [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z [a-z]+\.[a-z]+ " 5 && keys Home && see "kernel: Linux version" 5'

WHAT="Restart Management Agents: hostd gets a new pid (init starts it again)"
step eval 'keys Escape && see "1 Configure Password" 10 && keys 5 && see "Restart hostd" 10 && keys F11 &&
	see "hostd pid [0-9]+ is now pid [0-9]+" 60 &&
	screen | grep -oE "hostd pid [0-9]+ is now pid [0-9]+" | awk "{exit !(\$3 != \$7)}"'

WHAT="Reset System Configuration (after F11): the defaults are back: the image's host name, root without a password"
step eval 'keys Enter && see "1 Configure Password" 10 && keys 6 && see "Go back to the defaults" 10 && keys F11 &&
	see "The defaults are back" 60 && keys Enter Escape && see "Host name: hypervisor" 15 && keys F2 &&
	see "Authentication Required" 10 && keys Enter Enter && see "root has no password" 15'

WHAT="F12 (after a login) with F11: the host restarts and comes back to the DCUI"
step eval 'keys Escape && see "<L> Shell login" 10 && keys F12 && see "Authentication Required" 10 &&
	keys Enter Enter && see "<F11> or <R> Restart" 10 && keys F11 &&
	for _ in $(seq 300); do [ "$(boots)" -ge 2 ] && break; sleep 1; done && [ "$(boots)" -ge 2 ] &&
	see "Version $VERSION, bank live" 120 && see "<L> Shell login" 10'

tm kill-server 2>/dev/null
cp "$t/serial.log" "$LOG_DIR/dcui-console.log" 2>/dev/null
echo "1..$n"
exit "$FAILED"
