#!/bin/bash
# logd, the host's syslog daemon, run on the build host against syslog servers of the test's own
# on loopback (tests/integration/logd-listen.py): RFC 5424 over TCP, TLS (certificate checked) and
# UDP; the lines logged while a TCP server is down arrive once it is back; SIGHUP reads a new
# configuration; the host's log stays within its bound; a bad configuration is refused by line.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$t"' EXIT
LOGD=$OUT/bin/logd
n=0
step() { n=$((n + 1)); if "$@"; then echo "ok $n - $WHAT"; else echo "not ok $n - $WHAT"; FAILED=1; fi; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# listen NAME PROTO PORT [CERT KEY]: a server writing to $t/NAME.got; its pid in $t/NAME.pid.
listen() {
	local name=$1
	shift
	python3 "$(dirname "$0")/logd-listen.py" "$1" "$2" "$t/$name.got" "${@:3}" >"$t/$name.out" 2>&1 &
	echo $! >"$t/$name.pid"
	pids+=($!)
	for _ in $(seq 50); do grep -q listening "$t/$name.out" && return 0; sleep 0.1; done
	return 1
}
# wait_for FILE TEXT: up to 15 s (the reconnect back-off doubles from 1 s).
wait_for() { for _ in $(seq 150); do grep -qF -- "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done; return 1; }
log() { logger -u "$t/log.sock" -t "$1" "$2"; }

# A CA, a server certificate for 127.0.0.1 signed by it, and one signed by another CA.
for ca in ca other; do
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=test $ca" -keyout "$t/$ca.key" -out "$t/$ca.pem" 2>/dev/null
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$t/srv-$ca.key" -out "$t/srv-$ca.csr" 2>/dev/null
	openssl x509 -req -in "$t/srv-$ca.csr" -CA "$t/$ca.pem" -CAkey "$t/$ca.key" -CAcreateserial -days 2 \
		-extfile <(echo "subjectAltName=IP:127.0.0.1") -out "$t/srv-$ca.pem" 2>/dev/null
done

WHAT="a bad configuration: logd --check names the file, the line and what is wrong, and exits 1"
printf 'server = tcp://127.0.0.1:514\nserver = tcp://host:99999\n' >"$t/bad.conf"
step eval '! "$LOGD" --check --config "$t/bad.conf" 2>"$t/check.err" && grep -q "bad.conf:2: server .tcp://host:99999.: the port must be" "$t/check.err"'

tcp=$(free_port) tls=$(free_port) tlsbad=$(free_port) udp=$(free_port) tcp2=$(free_port)
listen tcp tcp "$tcp"
listen tls tcp "$tls" "$t/srv-ca.pem" "$t/srv-ca.key"
listen tlsbad tcp "$tlsbad" "$t/srv-other.pem" "$t/srv-other.key"
listen udp udp "$udp"
cat >"$t/logd.conf" <<CONF
server = tcp://127.0.0.1:$tcp
server = tls://127.0.0.1:$tls
server = tls://127.0.0.1:$tlsbad
server = udp://127.0.0.1:$udp
ca = $t/ca.pem
log-size = 8192
CONF
"$LOGD" --config "$t/logd.conf" --socket "$t/log.sock" --kmsg none --dir "$t/var" 2>"$t/logd.err" &
logd_pid=$!
pids+=($logd_pid)
for _ in $(seq 50); do [ -S "$t/log.sock" ] && break; sleep 0.1; done
sleep 0.5
log app1 "first line"
WHAT="TCP: the line arrives in RFC 5424 (<13>1 TIMESTAMP HOST app1 - - - first line)"
step eval 'wait_for "$t/tcp.got" "first line" && grep -qE "^<13>1 [0-9T:.-]+Z [^ ]+ app1 - - - first line$" "$t/tcp.got"'
WHAT="TLS: the line arrives over TLS, the server's certificate checked against the configured CA"
step wait_for "$t/tls.got" "first line"
WHAT="UDP: the line arrives as one datagram"
step wait_for "$t/udp.got" "first line"
WHAT="TLS to a server whose certificate another CA signed: nothing sent, the host's log says why"
step eval '! grep -q "first line" "$t/tlsbad.got" 2>/dev/null && grep -q "tls://127.0.0.1:$tlsbad unreachable: .*certificate" "$t/var/messages"'

kill "$(cat "$t/tcp.pid")"
sleep 0.5
log app1 "while down 1"
log app1 "while down 2"
sleep 1
listen tcp tcp "$tcp"
WHAT="TCP server down and back: the lines logged meanwhile arrive, in order"
step eval 'wait_for "$t/tcp.got" "while down 2" && grep -A1 "while down 1" "$t/tcp.got" | grep -q "while down 2"'
WHAT="the host's log says the server went away and came back"
step eval 'grep -q "tcp://127.0.0.1:$tcp unreachable: the server closed the connection" "$t/var/messages" && grep -c "tcp://127.0.0.1:$tcp reachable" "$t/var/messages" | grep -q 2'

listen tcp2 tcp "$tcp2"
sed -i "s/:$tcp\$/:$tcp2/" "$t/logd.conf"
kill -HUP "$logd_pid"
sleep 0.5
log app2 "after reload"
WHAT="SIGHUP: the new configuration's server gets the next line"
step wait_for "$t/tcp2.got" "after reload"

for i in $(seq 300); do log bulk "line $i of the bulk that fills the log beyond its bound"; done
sleep 1
WHAT="the host's log is kept within log-size (8192 bytes): messages and one rotated messages.1"
step eval '[ "$(stat -c %s "$t/var/messages")" -le 8192 ] && [ -s "$t/var/messages.1" ] && [ ! -e "$t/var/messages.2" ] && grep -q "line 300 of" "$t/var/messages"'

kill -TERM "$logd_pid"
WHAT="SIGTERM: logd stops with status 0 and removes its socket"
step eval 'wait "$logd_pid"; [ $? -eq 0 ] && [ ! -e "$t/log.sock" ]'
[ -n "${KEEP:-}" ] && echo "# kept $t"
echo "1..$n"
exit "${FAILED:-0}"
