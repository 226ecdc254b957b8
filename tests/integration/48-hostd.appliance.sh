#!/bin/bash
# hostd on the appliance, in QEMU (TCG) with the API port forwarded to the test side: an
# unattended install (ks.cfg: rootpw, host name), then over HTTPS with curl: the health check, 401
# and 403, a user made through the API and a configuration change that both survive a reboot, the
# lockout after 5 bad passwords and the administrator's unlock, and an update bundle (version 2.0.0,
# tests/integration/fixtures.sh) uploaded with POST /api/banks/stage: the reboot boots it.
# The DCUI on the installed host (docs/dcui.md): its welcome screen on the serial console (the
# console's bytes replayed into an 80x24 tmux terminal, as the person at it sees them) with the
# host name, version, bank and API URL; a read-only user put into localadmin through the API logs
# in to its menu, the read-only user outside it is refused; and on tty1 (the VGA screen), read
# from /dev/vcs1 in a shell, the same welcome screen.
. "$(dirname "$0")/common.sh"
command -v tmux >/dev/null || { echo "1..0 # SKIP tmux is not installed (apt-get install tmux)"; exit 77; }
t=$(mktemp -d)
sock=dcui48-$$
trap 'qemu_kill 2>/dev/null; tmux -L "$sock" kill-server 2>/dev/null; rm -rf "$t"' EXIT
disk=$t/disk.img
n=0
FAILED=0
step() { n=$((n + 1)); if "$@"; then echo "ok $n - $WHAT"; else echo "not ok $n - $WHAT"; FAILED=1; fail_log; fi; }
fail_log() { echo "# last answer: $(cat "$t/status" 2>/dev/null) $(head -c 400 "$t/body" 2>/dev/null | tr '\n' ' ')"; [ -f "$t/screen.txt" ] && echo "# serial console's screen:" && sed 's/^/#   /' "$t/screen.txt" && rm -f "$t/screen.txt"; echo "# console:"; [ -n "${QEMU_DIR:-}" ] && [ -d "$QEMU_DIR" ] && qemu_log | tail -n 15 | sed 's/^/#   /'; }
PW='R00t-Secret-pw' VIEW_PW='V1ew-Secret-pw' CON_PW='C0nsole-Secret-pw'
BUNDLE=$VARIANTS/v2.bundle
if [ ! -f "$ISO" ] || [ ! -f "$BUNDLE" ]; then
	echo "1..0 # SKIP needs the ISO ($ISO) and tests/integration/fixtures.sh's v2.bundle"
	exit 0
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# api [CURL ARGS] PATH: status in $t/status, body in $t/body (the certificate is the host's own,
# self-signed: -k; TLS 1.2 at least).
api() {
	local path=${*: -1}
	curl -sS -k --tlsv1.2 --max-time 120 -o "$t/body" -w '%{http_code}' "${@:1:$#-1}" "https://127.0.0.1:$port$path" \
		>"$t/status" 2>"$t/curl.err"
}
status() { [ "$(cat "$t/status")" = "$1" ]; }
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$t/body" "$1"; }
# boot NAME: the installed disk with the API port forwarded; waits for BOOT-OK and hostd's answer.
boot() {
	export QEMU_BOOT_NAME=hostd-$1
	qemu_start "$disk" bios disk-rw -nic "user,model=e1000,hostfwd=tcp:127.0.0.1:$port-:443"
	qemu_wait 'BOOT-OK|BOOT-FAILED' 150 || return 1
	for _ in $(seq 60); do api /api/health && status 200 && return 0; sleep 1; done
	return 1
}
# down: reboot through the API; QEMU (-no-reboot) ends once the shutdown is done.
down() {
	api -u "root:$PW" -X POST /api/host/reboot && status 202 || return 1
	for _ in $(seq 90); do kill -0 "$QEMU_PID" 2>/dev/null || break; sleep 0.5; done
	qemu_kill
}

# screen: what an 80x24 terminal on the serial console shows now (the DCUI's TERM there is
# vt220, 80x24): every byte of this boot's console replayed into a tmux pane of that size.
screen() {
	tmux -L "$sock" kill-server 2>/dev/null
	cp "$QEMU_DIR/serial.log" "$t/screen.raw"
	tmux -L "$sock" -f /dev/null new-session -d -s r -x 80 -y 24 "sleep 0.3; cat $t/screen.raw; sleep 60" \; \
		set-option -g status off
	sleep 1.5
	tmux -L "$sock" capture-pane -p -t r
}
# see PATTERN [SECONDS]: the serial console's screen shows PATTERN (grep -E) within SECONDS.
see() {
	local deadline=$((SECONDS + ${2:-20}))
	while [ "$SECONDS" -lt "$deadline" ]; do
		screen >"$t/screen.txt" && grep -qE -- "$1" "$t/screen.txt" && return 0
	done
	return 1
}
# keys TEXT: typed at the console (printf %b escapes); clear: the focused field emptied.
keys() { qemu_keys "$1"; sleep 0.5; }
clear_field() { keys "$(printf '\\177%.0s' $(seq 24))"; }
# dcui_login USER PASSWORD: from the welcome screen, C (= F2) and the login.
dcui_login() {
	keys c && see "Authentication Required" 20 && clear_field && keys "$1" && keys '\r' && keys "$2" && keys '\r'
}
# run CMD: type CMD at the logged-in shell; its output in $out.
run() {
	qemu_mark
	qemu_send "echo @@\"\"begin; $1; echo @@\"\"end"
	qemu_wait '^@@end' "${2:-30}" || return 1
	out=$(tail -c +"$((QEMU_MARK + 1))" "$QEMU_DIR/serial.log" | tr -d '\r' | sed -n '/^@@begin/,/^@@end/p' | sed '1d;$d')
}

printf 'vmaccepteula\nrootpw %s\ninstall --firstdisk --overwritevmfs\nnetwork --bootproto=dhcp --hostname=esx-api\npoweroff\n' "$PW" >"$t/ks.cfg"
mkfs.fat -C -n KS "$t/ks.img" 2048 >/dev/null && MTOOLS_SKIP_CHECK=1 mcopy -i "$t/ks.img" "$t/ks.cfg" ::/ks.cfg
truncate -s 1G "$disk"
WHAT="unattended install with ks.cfg (rootpw, host name esx-api)"
step eval 'QEMU_BOOT_NAME=hostd-install qemu_boot "$ISO" bios cd "INSTALL-OK|INSTALL-FAILED" 200 \
	-drive "file=$disk,format=raw,if=virtio" -drive "file=$t/ks.img,format=raw,if=virtio" >/dev/null 2>&1 &&
	grep -aq "^INSTALL-OK" "$LOG_DIR/hostd-install.log"'

WHAT="first boot: GET /api/health through the forwarded port, without credentials: ok, bank A, the version"
step eval 'boot first && [ "$(field status)" = ok ] && [ "$(field bank)" = A ] && [ "$(field version)" = "$VERSION" ]'
WHAT="no credentials: 401; TLS 1.1 refused"
step eval 'api /api/config && status 401 && ! curl -sk --tls-max 1.1 -o /dev/null "https://127.0.0.1:$port/api/health" 2>/dev/null'
WHAT="POST /api/users as root (ks.cfg's password): 201; the read-only user's PATCH: 403"
step eval 'api -u "root:$PW" -d "{\"name\": \"viewer\", \"password\": \"$VIEW_PW\", \"role\": \"read-only\"}" /api/users && status 201 &&
	api -u "viewer:$VIEW_PW" -X PATCH -d "{\"hostname\": \"x\"}" /api/config && status 403'
WHAT="PATCH /api/config (the issue's form: ntp as an array) as root: 200, in force (GET /api/host)"
step eval 'api -u "root:$PW" -X PATCH -d "{\"hostname\": \"esx-48\", \"ntp\": [\"10.0.2.2\"]}" /api/config && status 200 &&
	api -u "viewer:$VIEW_PW" /api/host && [ "$(field hostname)" = esx-48 ] &&
	python3 -c "import json, sys; j = json.load(open(sys.argv[1])); sys.exit(0 if any(n[\"driver\"] == \"e1000\" for n in j[\"nics\"]) else 1)" "$t/body"'
WHAT="5 bad passwords lock viewer out (401 with the right one); root's POST /api/users/viewer/unlock lets it in"
lockout() {
	for _ in 1 2 3 4 5; do api -u "viewer:wrong-pass" /api/config; status 401 || return 1; done
	api -u "viewer:$VIEW_PW" /api/config && status 401 && grep -q locked "$t/body" &&
		api -u "root:$PW" -X POST /api/users/viewer/unlock && status 200 && api -u "viewer:$VIEW_PW" /api/config && status 200
}
step lockout
WHAT="DCUI on the serial console: the welcome screen shows host name esx-48, version $VERSION, bank A, https://10.0.2.15/"
step eval 'keys "\\f" && see "Host name: esx-48" 30 && grep -q "Version $VERSION, bank A" "$t/screen.txt" &&
	grep -q "https://10\.0\.2\.15/" "$t/screen.txt" && grep -q "<F2> Customize System/View Logs" "$t/screen.txt"'
WHAT="a read-only user put into the group localadmin through the API (PATCH localadmin): GET /api/config shows it"
step eval 'api -u "root:$PW" -d "{\"name\": \"dcuiop\", \"password\": \"$CON_PW\", \"role\": \"read-only\"}" /api/users &&
	status 201 && api -u "root:$PW" -X PATCH -d "{\"localadmin\": [\"dcuiop\"]}" /api/config && status 200 &&
	[ "$(field localadmin)" = dcuiop ]'
WHAT="DCUI: the localadmin member (role read-only) logs in and gets System Customization"
step eval 'dcui_login dcuiop "$CON_PW" && see "System Customization" 30 && grep -q "1 Configure Password" "$t/screen.txt" &&
	grep -q "7 Shut Down/Restart" "$t/screen.txt"'
WHAT="DCUI: Esc logs out; viewer (read-only, not in localadmin) is refused, saying who may"
step eval 'keys "\\033" && see "<L> Shell login" 20 && dcui_login viewer "$VIEW_PW" &&
	see "viewer may not use the console UI; log in as an administrator or a$" 30 &&
	grep -q "^ *localadmin member" "$t/screen.txt" && ! grep -q "1 Configure Password" "$t/screen.txt"'
WHAT="DCUI on tty1 too: a dcui process on /dev/tty1, and the VGA screen (/dev/vcs1) shows its welcome screen"
tty1() {
	keys "\\033" && keys "\\033" && qemu_mark && qemu_login root "$PW" || return 1
	run 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = dcui ] && echo "dcui-on $(readlink $p/fd/0)"; done' &&
		echo "$out" | grep -aqx "dcui-on /dev/tty1" || return 1
	run 'cat /dev/vcs1; echo' && echo "$out" | grep -aq "Version $VERSION, bank A" && echo "$out" | grep -aq "Host name: esx-48" &&
		echo "$out" | grep -aq "https://10\.0\.2\.15/" && echo "$out" | grep -aq "<F2> Customize System/View Logs"
}
step tty1

WHAT="a reboot through the API (202): the users and the configuration (localadmin too) are still there"
step eval 'down && boot second && api -u "viewer:$VIEW_PW" /api/config && status 200 && [ "$(field hostname)" = esx-48 ] &&
	[ "$(field ntp-servers)" = 10.0.2.2 ] && [ "$(field localadmin)" = dcuiop ]'
WHAT="POST /api/banks/stage with v2.bundle as the body: 200, bank B staged (GET /api/banks)"
step eval 'api -u "root:$PW" -H "Content-Type: application/octet-stream" --data-binary @"$BUNDLE" /api/banks/stage && status 200 &&
	api -u "viewer:$VIEW_PW" /api/banks && status 200 && grep -q "2.0.0" "$t/body"'
WHAT="the reboot boots it: BOOT-OK bank=B version=2.0.0, the configuration carried over"
step eval 'down && boot b && qemu_log | grep -aq "BOOT-OK bank=B version=2.0.0" && api -u "viewer:$VIEW_PW" /api/config && status 200 &&
	[ "$(field hostname)" = esx-48 ]'
qemu_kill
echo "1..$n"
exit "$FAILED"
