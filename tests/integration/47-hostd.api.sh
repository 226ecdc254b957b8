#!/bin/bash
# hostd, the management API, run on the build host on a high port with a --root tree whose users
# are made with hostcfg --root: the health check without credentials, 401 without them, 403 for a
# read-only user's PATCH, a good PATCH written to host.conf, a bad one refused with 400 naming the
# field and nothing changed, the lockout after 5 bad passwords, the UNIX socket (root peer =
# administrator), the certificate (CN and SAN = host name) checked by curl, and no password in
# its log.
. "$(dirname "$0")/common.sh"
# HOSTD_WRAP="valgrind --leak-check=full --error-exitcode=9" runs hostd under a checker.
HOSTD=$OUT/bin/hostd
HOSTCFG=$OUT/bin/hostcfg
t=$(mktemp -d "${TMPDIR:-/tmp}/hostd-api.XXXXXX")
pid=
ulimit -f 2097152 # KiB: a runaway log cannot fill the disk
trap '[ -n "$pid" ] && stop_bounded "$pid"; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$t"' EXIT
R=$t/root
n=0
step() { n=$((n + 1)); if "$@"; then echo "ok $n - $WHAT"; else echo "not ok $n - $WHAT"; FAILED=1; fi; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ADMIN_PW='Adm1n-Secret-pw' VIEW_PW='V1ew-Secret-pw' OPS_PW='0ps-Secret-pw'

mkdir -p "$R/run" "$R/etc" "$R/proc"
echo ok >"$R/run/health"
printf 'NAME="Hypervisor"\nVERSION_ID="%s"\n' "$VERSION" >"$R/etc/os-release"
echo 'console=ttyS0 bootbank=A quiet' >"$R/proc/cmdline"
mkdir -p "$R/sys/class/net/eth0/device" "$R/sys/block/vda/device" "$R/sys/block/loop0" "$R/var/log"
echo 52:54:00:12:34:56 >"$R/sys/class/net/eth0/address"
echo 0x1003 >"$R/sys/class/net/eth0/flags"
ln -s ../../../../bus/virtio/drivers/virtio_net "$R/sys/class/net/eth0/device/driver"
echo 2097152 >"$R/sys/block/vda/size"
echo 'QEMU HARDDISK   ' >"$R/sys/block/vda/device/model"
echo 8 >"$R/sys/block/loop0/size"
for i in $(seq 300); do echo "Nov 30 12:00:00 esx-api test: line $i"; done >"$R/var/log/messages"
"$HOSTCFG" --root "$R" set hostname=esx-api >/dev/null 2>&1
echo "$ADMIN_PW" | "$HOSTCFG" --root "$R" user add admin administrator >/dev/null 2>&1
echo "$VIEW_PW" | "$HOSTCFG" --root "$R" user add viewer read-only >/dev/null 2>&1
echo "$OPS_PW" | "$HOSTCFG" --root "$R" user add ops operator >/dev/null 2>&1

DS=$R/vmfs/volumes/datastore1
mkdir -p "$DS/isos"
ln -s / "$DS/escape"
# A bankctl that says what it was asked (the build host's disks are not touched).
cat >"$t/bankctl" <<EOF
#!/bin/sh
echo "\$*" >>"$t/bankctl.args"
case "\$1" in
status) echo '{"next": "A", "banks": [{"bank": "A", "version": "1.0.0"}, {"bank": "B", "version": null}]}' ;;
stage) # a slow reader when $t/slow exists: hostd must hold the upload back, not buffer it
	if [ -e "$t/slow" ]; then
		python3 -c 'import hashlib, sys, time
h = hashlib.sha256()
while b := sys.stdin.buffer.read(4 << 20):
    h.update(b); time.sleep(0.02)
print(h.hexdigest())'
	else sha256sum "\$2" | cut -d" " -f1; fi >"$t/bankctl.staged"
	[ -e "$t/slowend" ] && sleep 3 # a read-back and commit that take a while
	echo "bankctl: staged 9.9.9 into bank B; reboot to try it" ;;
rollback) echo "bankctl: bank B holds no good image; nothing changed" >&2; exit 1 ;;
esac
EOF
chmod +x "$t/bankctl"

port=$(free_port)
${HOSTD_WRAP:-} "$HOSTD" --root "$R" --listen "127.0.0.1:$port" --socket "$t/hostd.sock" --bankctl "$t/bankctl" >"$t/hostd.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q listening "$t/hostd.log" && break; sleep 0.1; done
# call [CURL ARGS] PATH: the status in $t/status, the body in $t/body. The URL names the host as
# it is now: hostd's certificate follows the host name, and curl checks it.
call() {
	local path=${*: -1} h
	h=$(cat "$R/etc/hostname")
	curl -sS --cacert "$R/etc/hostcfg/hostd.crt" --resolve "$h:$port:127.0.0.1" -o "$t/body" -D "$t/head" \
		-w '%{http_code}' "${@:1:$#-1}" "https://$h:$port$path" >"$t/status" 2>"$t/curl.err"
}
status() { [ "$(cat "$t/status")" = "$1" ]; }
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2], ""))' "$t/body" "$1"; }
# jq-less: a Python expression on the body as j.
py() { python3 -c "import json, sys; j = json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "$t/body"; }
conf_sum() { sha256sum "$R/etc/hostcfg/host.conf" "$R/etc/hostname"; }

WHAT="the first start made a certificate (CN and SAN esx-api) and its key (0600) under /etc/hostcfg"
step eval 'openssl x509 -in "$R/etc/hostcfg/hostd.crt" -noout -subject -ext subjectAltName 2>/dev/null | grep -q "CN = esx-api" &&
	openssl x509 -in "$R/etc/hostcfg/hostd.crt" -noout -ext subjectAltName | grep -q "DNS:esx-api" &&
	[ "$(stat -c %a "$R/etc/hostcfg/hostd.key")" = 600 ]'

WHAT="GET /api/health without credentials: ok, the version and bank A, over TLS checked with the certificate"
step eval 'call /api/health && status 200 && [ "$(field status)" = ok ] && [ "$(field version)" = "$VERSION" ] && [ "$(field bank)" = A ]'

WHAT="an answer on a connection that closes (Connection: close) arrives whole, over TLS and the UNIX socket"
step eval 'call -H "Connection: close" /api/health && status 200 && [ "$(tail -c 1 "$t/body" | od -An -c | tr -d " ")" = "\\n" ] &&
	[ "$(curl -sS --unix-socket "$t/hostd.sock" -H "Connection: close" -o /dev/null -w "%{size_download}" http://localhost/api/health)" = "$(wc -c <"$t/body")" ]'

WHAT="a degraded /run/health is reported"
step eval 'echo "degraded" >"$R/run/health"; call /api/health && [ "$(field status)" = degraded ]; echo ok >"$R/run/health"'

WHAT="GET /api/config without credentials: 401 with WWW-Authenticate: Basic"
step eval 'call /api/config && status 401 && grep -qi "^WWW-Authenticate: Basic" "$t/head"'

WHAT="GET /api/config as read-only: 200, every key, no hash"
step eval 'call -u "viewer:$VIEW_PW" /api/config && status 200 && [ "$(field hostname)" = esx-api ] && ! grep -q "\\\$6\\\$" "$t/body"'

WHAT="GET /api/users: the users with their roles, no hash"
step eval 'call -u "viewer:$VIEW_PW" /api/users && status 200 && grep -q "\"read-only\"" "$t/body" && ! grep -q "\\\$6\\\$" "$t/body"'

WHAT="GET /api/host: hostname, version, bank, uptime, cpus, memory"
step eval 'call -u "admin:$ADMIN_PW" /api/host && status 200 && [ "$(field hostname)" = esx-api ] && [ "$(field cpus)" -ge 1 ] && [ "$(field memory)" -gt 0 ]'

before=$(conf_sum)
WHAT="PATCH /api/config as read-only: 403, nothing changed"
step eval 'call -u "viewer:$VIEW_PW" -X PATCH -d "{\"hostname\": \"esx-ro\"}" /api/config && status 403 && [ "$(conf_sum)" = "$before" ]'

WHAT="PATCH with an unknown key: 400 naming it, nothing changed (the good key with it not set)"
step eval 'call -u "admin:$ADMIN_PW" -X PATCH -d "{\"hostname\": \"esx-x\", \"colour\": \"red\"}" /api/config && status 400 &&
	[ "$(field field)" = colour ] && [ "$(conf_sum)" = "$before" ]'

WHAT="PATCH with a wrong type: 400 naming the field, nothing changed"
step eval 'call -u "admin:$ADMIN_PW" -X PATCH -d "{\"dns-servers\": 53}" /api/config && status 400 &&
	[ "$(field field)" = dns-servers ] && [ "$(conf_sum)" = "$before" ]'

WHAT="PATCH with a bad value: 400 naming the field, nothing changed"
step eval 'call -u "admin:$ADMIN_PW" -X PATCH -d "{\"network-mode\": \"static\"}" /api/config && status 400 &&
	[ "$(field field)" = network-mode ] && [ "$(conf_sum)" = "$before" ]'

WHAT="PATCH with a body over 1 MiB: refused (413), nothing changed"
step eval 'head -c 1100000 /dev/zero | tr "\\0" " " >"$t/big"; call -u "admin:$ADMIN_PW" -X PATCH --data-binary @"$t/big" /api/config;
	{ status 413 || status 400; } && echo "# big body: $(cat "$t/status")" && [ "$(conf_sum)" = "$before" ]'

WHAT="a good PATCH as administrator: 200, host.conf and /etc/hostname changed"
step eval 'call -u "admin:$ADMIN_PW" -X PATCH -d "{\"hostname\": \"esx-new\", \"dns-servers\": \"192.0.2.53\"}" /api/config && status 200 &&
	grep -qx "hostname = esx-new" "$R/etc/hostcfg/host.conf" && grep -qx "dns-servers = 192.0.2.53" "$R/etc/hostcfg/host.conf" &&
	[ "$(cat "$R/etc/hostname")" = esx-new ]'

WHAT="the issue's PATCH: aliases syslog and ntp with arrays set syslog-servers and ntp-servers"
step eval 'call -u "admin:$ADMIN_PW" -X PATCH -d "{\"hostname\": \"h1\", \"syslog\": [\"tcp://192.0.2.1:514\"], \"ntp\": [\"pool.example\"]}" /api/config &&
	status 200 && grep -qx "syslog-servers = tcp://192.0.2.1:514" "$R/etc/hostcfg/host.conf" && grep -qx "ntp-servers = pool.example" "$R/etc/hostcfg/host.conf" &&
	[ "$(field hostname)" = h1 ] && call -u "admin:$ADMIN_PW" -X PATCH -d "{\"hostname\": \"esx-new\"}" /api/config && status 200'

WHAT="the host name changed: hostd's certificate is made again for it (CN and SAN esx-new) and used at once (curl checks it)"
step eval 'openssl x509 -in "$R/etc/hostcfg/hostd.crt" -noout -subject -ext subjectAltName | grep -q "DNS:esx-new" &&
	call -u "viewer:$VIEW_PW" /api/health && status 200 && grep -q "a new certificate for esx-new" "$t/hostd.log"'

WHAT="PUT /api/host/certificate: a chain and key made with openssl replace it (200, subject, not_after), used at once; a key of another certificate is 400 field body"
certput() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=esx-new -addext subjectAltName=DNS:esx-new \
		-days 30 -keyout "$t/new.key" -out "$t/new.crt" 2>/dev/null &&
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=other -days 30 -keyout "$t/other.key" \
		-out "$t/other.crt" 2>/dev/null || return 1
	cat "$t/new.crt" "$t/other.key" >"$t/bad.pem"
	call -u "admin:$ADMIN_PW" -X PUT --data-binary @"$t/bad.pem" /api/host/certificate && status 400 && [ "$(field field)" = body ] &&
		! cmp -s "$t/new.crt" "$R/etc/hostcfg/hostd.crt" || return 1
	cat "$t/new.crt" "$t/new.key" >"$t/good.pem"
	call -u "ops:$OPS_PW" -X PUT --data-binary @"$t/good.pem" /api/host/certificate && status 403 || return 1
	call -u "admin:$ADMIN_PW" -X PUT --data-binary @"$t/good.pem" /api/host/certificate && status 200 &&
		field subject | grep -q "CN *= *esx-new" && [ -n "$(field not_after)" ] && cmp -s "$t/new.crt" "$R/etc/hostcfg/hostd.crt" &&
		curl -sS --cacert "$t/new.crt" --resolve "esx-new:$port:127.0.0.1" -o /dev/null "https://esx-new:$port/api/health"
}
step certput

WHAT="GET /api/host: nics (name, mac, driver from sysfs, up, addresses) and disks (size, model), no loop devices"
step eval 'call -u "viewer:$VIEW_PW" /api/host && status 200 &&
	py "[dict(n, addresses=type(n[\"addresses\"]).__name__) for n in j[\"nics\"]] == [{\"name\": \"eth0\", \"mac\": \"52:54:00:12:34:56\", \"driver\": \"virtio_net\", \"up\": True, \"addresses\": \"list\"}] and j[\"disks\"] == [{\"name\": \"vda\", \"size\": 1073741824, \"model\": \"QEMU HARDDISK\"}]"'

WHAT="POST /api/users as administrator: 201, the user (no hash), in host.conf and /etc/shadow"
step eval 'call -u "admin:$ADMIN_PW" -d "{\"name\": \"newbie\", \"password\": \"N3wbie-pass\", \"role\": \"read-only\"}" /api/users &&
	status 201 && [ "$(field name)" = newbie ] && [ "$(field role)" = read-only ] && ! grep -q "\\\$6\\\$" "$t/body" &&
	grep -q "^newbie:\\\$6\\\$" "$R/etc/shadow" && call -u "newbie:N3wbie-pass" /api/users && status 200'

before=$(conf_sum)
WHAT="POST /api/users refusals: a bad role, a short password, an unknown member, an existing name (409), each naming the field; nothing changed"
step eval 'call -u "admin:$ADMIN_PW" -d "{\"name\": \"x1\", \"password\": \"Long-enough-1\", \"role\": \"king\"}" /api/users && status 400 && [ "$(field field)" = role ] &&
	call -u "admin:$ADMIN_PW" -d "{\"name\": \"x1\", \"password\": \"short\"}" /api/users && status 400 && [ "$(field field)" = password ] &&
	call -u "admin:$ADMIN_PW" -d "{\"name\": \"x1\", \"password\": \"Long-enough-1\", \"uid\": \"0\"}" /api/users && status 400 && [ "$(field field)" = uid ] &&
	call -u "admin:$ADMIN_PW" -d "{\"name\": \"Bad Name\", \"password\": \"Long-enough-1\"}" /api/users && status 400 && [ "$(field field)" = name ] &&
	call -u "admin:$ADMIN_PW" -d "{\"name\": \"newbie\", \"password\": \"Long-enough-1\"}" /api/users && status 409 && [ "$(field field)" = name ] &&
	[ "$(conf_sum)" = "$before" ]'

WHAT="roles: an operator and a read-only user may not add users, change passwords or reboot (403); nothing changed"
step eval 'call -u "ops:$OPS_PW" -d "{\"name\": \"x2\", \"password\": \"Long-enough-1\"}" /api/users && status 403 &&
	call -u "viewer:$VIEW_PW" -X PUT -d "{\"password\": \"Long-enough-1\"}" /api/users/admin/password && status 403 &&
	call -u "ops:$OPS_PW" -X POST /api/host/reboot && status 403 && call -u "ops:$OPS_PW" -X PATCH -d "{\"hostname\": \"o\"}" /api/config && status 403 &&
	[ "$(conf_sum)" = "$before" ] && [ ! -e "$R/run/hostd-action" ]'

WHAT="PUT /api/users/NAME/password: 200, the new password works, the old one not"
step eval 'call -u "admin:$ADMIN_PW" -X PUT -d "{\"password\": \"N3wer-pass\"}" /api/users/newbie/password && status 200 &&
	call -u "newbie:N3wer-pass" /api/users && status 200 && call -u "newbie:N3wbie-pass" /api/users && status 401 &&
	call -u "admin:$ADMIN_PW" -X PUT -d "{\"password\": \"N3wer-pass\"}" /api/users/nobody/password && status 404'

WHAT="DELETE /api/users/NAME: 200, gone from host.conf; root cannot be removed (400); an unknown user is 404"
step eval 'call -u "admin:$ADMIN_PW" -X DELETE /api/users/newbie && status 200 && ! grep -q newbie "$R/etc/hostcfg/host.conf" &&
	call -u "admin:$ADMIN_PW" -X DELETE /api/users/root && status 400 && call -u "admin:$ADMIN_PW" -X DELETE /api/users/newbie && status 404'

WHAT="GET /api/logs?lines=5: the last 5 lines of /var/log/messages; lines=0 is 400 naming lines"
step eval 'call -u "viewer:$VIEW_PW" "/api/logs?lines=5" && status 200 && py "len(j[\"lines\"]) == 5 and j[\"lines\"][-1].endswith(\"line 300\")" &&
	call -u "viewer:$VIEW_PW" /api/logs && py "len(j[\"lines\"]) == 200" && call -u "viewer:$VIEW_PW" "/api/logs?lines=0" && status 400 && [ "$(field field)" = lines ]'

WHAT="PUT /api/datastore/PATH: 201, the bytes on the datastore; GET gives them back; GET of a folder lists it"
step eval 'head -c 300000 /dev/urandom >"$t/small" && call -u "admin:$ADMIN_PW" -T "$t/small" /api/datastore/isos/small.bin && status 201 &&
	cmp -s "$t/small" "$DS/isos/small.bin" && [ "$(stat -c %a "$DS/isos/small.bin")" = 644 ] && call -u "viewer:$VIEW_PW" /api/datastore/isos/small.bin && status 200 && cmp -s "$t/small" "$t/body" &&
	call -u "viewer:$VIEW_PW" /api/datastore/isos && status 200 && py "j[\"entries\"] == [{\"name\": \"small.bin\", \"type\": \"file\", \"size\": 300000}]" &&
	call -u "viewer:$VIEW_PW" /api/datastore && py "sorted(e[\"name\"] for e in j[\"entries\"]) == [\"escape\", \"isos\"]"'

WHAT="PUT of a folder (PATH/), DELETE of a file and an empty folder; a full folder is 409"
step eval 'call -u "admin:$ADMIN_PW" -X PUT /api/datastore/vm1/ && status 201 && [ -d "$DS/vm1" ] &&
	call -u "admin:$ADMIN_PW" -X DELETE /api/datastore/isos && status 409 &&
	call -u "admin:$ADMIN_PW" -X DELETE /api/datastore/isos/small.bin && status 200 && [ ! -e "$DS/isos/small.bin" ] &&
	call -u "admin:$ADMIN_PW" -X DELETE /api/datastore/vm1 && status 200 && [ ! -e "$DS/vm1" ] &&
	call -u "admin:$ADMIN_PW" /api/datastore/nothing && status 404'

WHAT="datastore path traversal (.., %2e%2e, an empty component, a symbolic link out, the spool) refused with 400 field path; nothing written"
trav() { call -u "admin:$ADMIN_PW" --path-as-is "$@" && status 400 && [ "$(field field)" = path ]; }
step eval 'trav /api/datastore/../../etc/hostname && trav /api/datastore/isos/%2e%2e/%2e%2e/x && trav /api/datastore//etc/passwd &&
	trav /api/datastore/escape/etc/passwd && trav -T "$t/small" /api/datastore/escape/tmp/owned && trav -X DELETE /api/datastore/escape/tmp &&
	trav /api/datastore/.hostd-spool && trav /api/datastore/a%00b && [ ! -e /tmp/owned ] && [ -z "$(ls "$DS/.hostd-spool")" ]'

WHAT="PUT /api/datastore as read-only: 403, nothing written; without credentials: 401"
step eval 'call -u "viewer:$VIEW_PW" -T "$t/small" /api/datastore/ro.bin && status 403 && [ ! -e "$DS/ro.bin" ] &&
	call -T "$t/small" /api/datastore/ro.bin && status 401 && [ ! -e "$DS/ro.bin" ] && [ -z "$(ls "$DS/.hostd-spool")" ]'

rss() { awk "/^$1:/ {print \$2}" "/proc/$pid/status"; }
WHAT="uploads stream: a 256 MiB PUT is stored whole and read back, a 256 MiB bundle reaches a slow bankctl stage - whole, and hostd's peak memory stays under 40 MiB"
big() {
	head -c $((256 * 1024 * 1024)) /dev/urandom >"$t/big.bin"
	call -u "admin:$ADMIN_PW" -T "$t/big.bin" /api/datastore/isos/big.bin && status 201 && cmp -s "$t/big.bin" "$DS/isos/big.bin" ||
		{ echo "# PUT: $(cat "$t/status") $(head -c 300 "$t/body") $(cat "$t/curl.err")"; return 1; }
	call -u "viewer:$VIEW_PW" /api/datastore/isos/big.bin && status 200 && cmp -s "$t/big.bin" "$t/body" ||
		{ echo "# GET: $(cat "$t/status") $(cat "$t/curl.err")"; return 1; }
	rm -f "$DS/isos/big.bin" "$t/body"
	touch "$t/slow"
	call -u "admin:$ADMIN_PW" -X POST -T "$t/big.bin" /api/banks/stage && status 200 &&
		[ "$(cat "$t/bankctl.staged")" = "$(sha256sum <"$t/big.bin" | cut -d" " -f1)" ] ||
		{ echo "# stage: $(cat "$t/status") $(head -c 300 "$t/body") $(cat "$t/curl.err")"; return 1; }
	rm -f "$t/slow" "$t/big.bin"
	echo "# hostd's peak resident memory: $(rss VmHWM) KiB"
	[ "$(rss VmHWM)" -lt 40960 ]
}
step big

WHAT="a chunked upload (no Content-Length) is stored whole; two requests pipelined on one connection are both answered, in order"
chunked() {
	head -c 3000000 /dev/urandom >"$t/chunk.bin"
	call -u "admin:$ADMIN_PW" -T - /api/datastore/isos/chunk.bin <"$t/chunk.bin" && status 201 && cmp -s "$t/chunk.bin" "$DS/isos/chunk.bin" || return 1
	python3 - "$port" "$R/etc/hostcfg/hostd.crt" "$(cat "$R/etc/hostname")" <<'PY'
import socket, ssl, sys
port, ca, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
s = ssl.create_default_context(cafile=ca).wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=name)
s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\nGET /api/nothing HTTP/1.1\r\nHost: x\r\n\r\n")
data = b""
while data.count(b"HTTP/1.1 ") < 2 or not data.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
import re
codes = re.findall(rb"HTTP/1\.1 (\d+) ", data)
print("# pipelined:", codes)
sys.exit(0 if codes == [b"200", b"404"] else 1)
PY
}
step chunked

WHAT="while bankctl finishes a stage (3 s after the bundle's end), hostd answers other calls at once; the stage's answer comes when bankctl ends"
busy_stage() {
	local t0 t1 spid
	touch "$t/slowend"
	( call -u "admin:$ADMIN_PW" -H "Content-Type: application/octet-stream" --data-binary @"$t/small" /api/banks/stage
	  cp "$t/status" "$t/stage.status" ) &
	spid=$!
	sleep 1
	t0=$(date +%s%N)
	curl -sk -o /dev/null -w '%{http_code}' "https://127.0.0.1:$port/api/health" >"$t/health.status"
	t1=$(date +%s%N)
	wait "$spid"
	rm -f "$t/slowend"
	echo "# health during the stage: $(cat "$t/health.status") in $(( (t1 - t0) / 1000000 )) ms; the stage: $(cat "$t/stage.status")"
	[ "$(cat "$t/health.status")" = 200 ] && [ $(( (t1 - t0) / 1000000 )) -lt 1000 ] && [ "$(cat "$t/stage.status")" = 200 ]
}
step busy_stage

WHAT="a client that leaves while bankctl finishes: bankctl runs to its end, the stage is audited, hostd answers on"
left_stage() {
	local before
	touch "$t/slowend"
	before=$(grep -c "POST /api/banks/stage: done" "$t/hostd.log")
	python3 - "$port" "$R/etc/hostcfg/hostd.crt" "$(cat "$R/etc/hostname")" "$(printf 'admin:%s' "$ADMIN_PW" | base64)" "$t/small" <<'PY'
import socket, ssl, sys, time
port, ca, name, cred, path = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
body = open(path, "rb").read()
s = ssl.create_default_context(cafile=ca).wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=name)
s.sendall(b"POST /api/banks/stage HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + cred.encode() +
          b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
time.sleep(0.5)
s.close()
PY
	for _ in $(seq 50); do [ "$(grep -c "POST /api/banks/stage: done" "$t/hostd.log")" -gt "$before" ] && break; sleep 0.1; done
	rm -f "$t/slowend"
	[ "$(grep -c "POST /api/banks/stage: done" "$t/hostd.log")" -gt "$before" ] && call /api/health && status 200
}
step left_stage

WHAT="an upload cut off midway: nothing kept on the datastore, bankctl stopped, hostd answers on"
cutoff() {
	python3 - "$port" "$R/etc/hostcfg/hostd.crt" "$(cat "$R/etc/hostname")" "$(printf 'admin:%s' "$ADMIN_PW" | base64)" <<'PY'
import socket, ssl, sys, time
port, ca, name, cred = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
for path in (b"/api/datastore/isos/cut.bin", b"/api/banks/stage"):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=name)
    method = b"PUT" if b"datastore" in path else b"POST"
    s.sendall(method + b" " + path + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Basic " + cred.encode() +
              b"\r\nContent-Length: 10000000\r\n\r\n" + b"x" * 1000000)
    time.sleep(0.3)
    s.close()
PY
	sleep 0.5
	[ ! -e "$DS/isos/cut.bin" ] && [ -z "$(ls "$DS/.hostd-spool")" ] && ! pgrep -f "$t/bankctl stage" >/dev/null &&
		grep -q "the connection ended during the upload" "$t/hostd.log" && call /api/health && status 200
}
step cutoff

WHAT="GET /api/banks: what bankctl status --json prints"
step eval 'call -u "viewer:$VIEW_PW" /api/banks && status 200 && [ "$(field next)" = A ] && grep -qx "status --json" "$t/bankctl.args"'

WHAT="POST /api/banks/stage: the bundle streamed to bankctl stage - on its stdin (same bytes), 200 with its message; nothing spooled"
step eval 'call -u "admin:$ADMIN_PW" -H "Content-Type: application/octet-stream" --data-binary @"$t/small" /api/banks/stage && status 200 &&
	[ "$(cat "$t/bankctl.staged")" = "$(sha256sum <"$t/small" | cut -d" " -f1)" ] && field result | grep -q "staged 9.9.9" &&
	[ -z "$(ls "$DS/.hostd-spool")" ]'

WHAT="POST /api/banks/stage as an operator: 403, bankctl not run; rollback refused by bankctl: 409 with its message"
step eval 'n0=$(wc -l <"$t/bankctl.args"); call -u "ops:$OPS_PW" --data-binary @"$t/small" /api/banks/stage && status 403 &&
	[ "$(wc -l <"$t/bankctl.args")" = "$n0" ] && call -u "admin:$ADMIN_PW" -X POST /api/banks/rollback && status 409 && field error | grep -q "no good image"'

WHAT="other paths: 404 JSON; a method a path does not take: 405"
step eval 'call -u "admin:$ADMIN_PW" /api/nothing && status 404 && [ -n "$(field error)" ] &&
	call -u "admin:$ADMIN_PW" -X DELETE /api/config && status 405'

WHAT="the UNIX socket: root's peer is an administrator (GET /api/users, PATCH) without credentials"
step eval 'curl -sS --unix-socket "$t/hostd.sock" -o "$t/body" -w "%{http_code}" -X PATCH -d "{\"ntp-servers\": \"pool.ntp.org\"}" http://localhost/api/config >"$t/status" &&
	status 200 && grep -qx "ntp-servers = pool.ntp.org" "$R/etc/hostcfg/host.conf" &&
	[ "$(curl -sS --unix-socket "$t/hostd.sock" -o /dev/null -w "%{http_code}" http://localhost/api/users)" = 200 ]'

WHAT="5 bad passwords lock the account: 401 with the right password after them"
lock() {
	for _ in 1 2 3 4 5; do call -u "viewer:wrong-pass" /api/config; status 401 || return 1; done
	call -u "viewer:$VIEW_PW" /api/config && status 401 && grep -q locked "$t/body"
}
step lock

WHAT="the other user is not locked"
step eval 'call -u "admin:$ADMIN_PW" /api/config && status 200'

WHAT="GET /api/users says viewer is locked; POST /api/users/viewer/unlock (administrator) lets it in again"
step eval 'call -u "admin:$ADMIN_PW" /api/users && py "[u[\"locked\"] for u in j if u[\"name\"] == \"viewer\"] == [True]" &&
	call -u "ops:$OPS_PW" -X POST /api/users/viewer/unlock && status 403 &&
	call -u "admin:$ADMIN_PW" -X POST /api/users/viewer/unlock && status 200 && py "j[\"locked\"] == False" &&
	call -u "viewer:$VIEW_PW" /api/config && status 200'

WHAT="POST /api/host/reboot, shutdown, restore-defaults: 202 first, then (--root) recorded in run/hostd-action, nothing done to the build host"
power() { call -u "admin:$ADMIN_PW" -X POST "/api/host/$1" && status 202 && [ "$(field result)" = "$2" ] &&
	for _ in $(seq 30); do [ "$(cat "$R/run/hostd-action" 2>/dev/null)" = "$3" ] && break; sleep 0.1; done && [ "$(cat "$R/run/hostd-action")" = "$3" ]; }
step eval 'power reboot rebooting reboot && power shutdown "shutting down" poweroff'

WHAT="restore-defaults: the defaults are back in /etc/hostname (host.conf's users and settings gone)"
step eval 'power restore-defaults "restoring the defaults, then rebooting" restore-defaults && [ "$(cat "$R/etc/hostname")" != esx-new ]'

WHAT="root, with no password set (the default), is refused remotely (401)"
step eval 'call -u "root:" /api/config && status 401 && grep -q "no password set" "$t/body" &&
	call -u "root:anything" /api/config && status 401'

WHAT="the log names who changed what and the result, and never a password"
step eval 'grep -q "admin (administrator) from 127.0.0.1: PATCH /api/config hostname,dns-servers: done" "$t/hostd.log" &&
	grep -q "viewer (read-only) from 127.0.0.1: PATCH /api/config: refused: role" "$t/hostd.log" &&
	grep -q "admin (administrator) from 127.0.0.1: POST /api/users newbie: done" "$t/hostd.log" &&
	grep -q "admin (administrator) from 127.0.0.1: POST /api/users/\*/unlock viewer: done" "$t/hostd.log" &&
	! grep -qF -e N3wbie-pass -e N3wer-pass "$t/hostd.log" &&
	! grep -qF -e "$ADMIN_PW" -e "$VIEW_PW" -e wrong-pass "$t/hostd.log"'

WHAT="at most 64 connections: with 64 open, the 65th gets 503 and is closed; once one closes, a new one is served"
conns() {
	python3 - "$port" "$R/etc/hostcfg/hostd.crt" "$(cat "$R/etc/hostname")" <<'PY'
import socket, ssl, sys
port, ca, name = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
def conn():
    return ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname=name)
def status(s):
    s.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
    return s.recv(4096).split(b"\r\n")[0].decode()
held = [conn() for _ in range(64)]
print("# the 65th:", over := status(conn()))
held.pop().close()
import time; time.sleep(0.3)
print("# after one closed:", again := status(conn()))
sys.exit(0 if over.startswith("HTTP/1.1 503") and again.startswith("HTTP/1.1 200") else 1)
PY
}
step conns

WHAT="SIGTERM: hostd stops within 5 s with status 0 and removes its socket"
step eval 'stop_bounded "$pid" && wait "$pid"; st=$?; pid=; [ $st -eq 0 ] && [ ! -e "$t/hostd.sock" ]'
[ -n "${KEEP:-}" ] && echo "# kept $t"
echo "1..$n"
exit "${FAILED:-0}"
