#!/bin/bash
# hostd on the appliance, in QEMU (TCG) with the API port forwarded to the test side: an
# unattended install (ks.cfg: rootpw, host name), then over HTTPS with curl: the health check, 401
# and 403, a user made through the API and a configuration change that both survive a reboot, the
# lockout after 5 bad passwords and the administrator's unlock, and an update bundle (version 2.0.0,
# tests/integration/fixtures.sh) uploaded with POST /api/banks/stage: the reboot boots it.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d)
trap 'qemu_kill 2>/dev/null; rm -rf "$t"' EXIT
disk=$t/disk.img
n=0
FAILED=0
step() { n=$((n + 1)); if "$@"; then echo "ok $n - $WHAT"; else echo "not ok $n - $WHAT"; FAILED=1; fail_log; fi; }
fail_log() { echo "# last answer: $(cat "$t/status" 2>/dev/null) $(head -c 400 "$t/body" 2>/dev/null | tr '\n' ' ')"; echo "# console:"; [ -n "${QEMU_DIR:-}" ] && [ -d "$QEMU_DIR" ] && qemu_log | tail -n 15 | sed 's/^/#   /'; }
PW='R00t-Secret-pw' VIEW_PW='V1ew-Secret-pw'
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
WHAT="a reboot through the API (202): the user and the configuration are still there"
step eval 'down && boot second && api -u "viewer:$VIEW_PW" /api/config && status 200 && [ "$(field hostname)" = esx-48 ] &&
	[ "$(field ntp-servers)" = 10.0.2.2 ]'
WHAT="POST /api/banks/stage with v2.bundle as the body: 200, bank B staged (GET /api/banks)"
step eval 'api -u "root:$PW" -H "Content-Type: application/octet-stream" --data-binary @"$BUNDLE" /api/banks/stage && status 200 &&
	api -u "viewer:$VIEW_PW" /api/banks && status 200 && grep -q "2.0.0" "$t/body"'
WHAT="the reboot boots it: BOOT-OK bank=B version=2.0.0, the configuration carried over"
step eval 'down && boot b && qemu_log | grep -aq "BOOT-OK bank=B version=2.0.0" && api -u "viewer:$VIEW_PW" /api/config && status 200 &&
	[ "$(field hostname)" = esx-48 ]'
qemu_kill
echo "1..$n"
exit "$FAILED"
