#!/bin/bash
# bench-api.sh WORKDIR: hostd's authenticated `GET /api/host` over HTTPS with keep-alive against
# nginx serving the same JSON as a static file over TLS (same certificate, TLS 1.2+), both on
# this build host, both one process (hostd is one event loop: nginx gets worker_processes 1),
# measured with wrk (one thread, 8 connections, 5 s), A B A B. Prints one line:
#   hostd_rps=R hostd_p99_ms=L nginx_rps=R nginx_p99_ms=L
# on stdout, the best of the two rounds each; exit 0. On failure a one-line reason goes to
# stderr and the exit status is 1. Installs wrk and nginx-light when missing (root). Logs stay
# in WORKDIR.
set -u
export LC_ALL=C
die() {
	echo "bench-api: $*" >&2
	exit 1
}
[ $# -eq 1 ] || die "usage: bench-api.sh WORKDIR"
. "$(dirname "$0")/integration/common.sh"
mkdir -p -- "$1" || die "cannot create WORKDIR $1"
w=$(cd -- "$1" && pwd -P)
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
if [ ${#need[@]} -gt 0 ]; then
	DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends "${need[@]}" \
		>"$w/apt.log" 2>&1 || die "apt-get install ${need[*]} failed: see $w/apt.log"
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

R=$w/root
rm -rf "$R" && mkdir -p "$R/run" "$R/etc" "$R/proc"
echo ok >"$R/run/health"
printf 'NAME="Hypervisor"\nVERSION_ID="%s"\n' "$VERSION" >"$R/etc/os-release"
echo 'console=ttyS0 bootbank=A' >"$R/proc/cmdline"
"$OUT/bin/hostcfg" --root "$R" set hostname=bench >/dev/null 2>&1 || die "hostcfg --root failed"
echo 'Bench-pw-1' | "$OUT/bin/hostcfg" --root "$R" user add admin administrator >/dev/null 2>&1 || die "hostcfg user add failed"

hp=$(free_port)
"$OUT/bin/hostd" --root "$R" --listen "127.0.0.1:$hp" --socket "$w/hostd.sock" >"$w/hostd.log" 2>&1 &
hpid=$!
npid=
trap 'kill $hpid $npid 2>/dev/null; wait 2>/dev/null' EXIT
for _ in $(seq 50); do grep -q listening "$w/hostd.log" && break; sleep 0.1; done
mkdir -p "$w/www/api"
curl -fsS -k -u admin:Bench-pw-1 "https://127.0.0.1:$hp/api/host" -o "$w/www/api/host" ||
	die "hostd did not answer GET /api/host: $(tail -n 1 "$w/hostd.log")"

np=$(free_port)
cat >"$w/nginx.conf" <<EOF
daemon off;
worker_processes 1;
pid $w/nginx.pid;
error_log $w/nginx.err;
events { worker_connections 256; }
http {
	access_log off;
	keepalive_requests 1000000;
	server {
		listen 127.0.0.1:$np ssl;
		ssl_certificate $R/etc/hostcfg/hostd.crt;
		ssl_certificate_key $R/etc/hostcfg/hostd.key;
		ssl_protocols TLSv1.2 TLSv1.3;
		location = /api/host { default_type application/json; root $w/www; }
	}
}
EOF
"$NGINX" -c "$w/nginx.conf" -p "$w" >"$w/nginx.log" 2>&1 &
npid=$!
for _ in $(seq 50); do curl -fsS -k "https://127.0.0.1:$np/api/host" -o /dev/null 2>/dev/null && break; sleep 0.1; done
curl -fsS -k "https://127.0.0.1:$np/api/host" -o /dev/null || die "nginx did not start: $(tail -n 1 "$w/nginx.err" 2>/dev/null)"

# run NAME URL [ARGS]: one wrk round; "RPS P99_MS" on stdout.
run() {
	local out=$w/wrk-$1.txt
	wrk -t1 -c8 -d5s --latency "${@:3}" "$2" >"$out" 2>&1 || { echo "0 0"; return; }
	awk '/^Requests\/sec:/ { r = $2 }
	     $1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
	                   p = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : v }
	     END { printf "%.0f %.2f\n", r, p }' "$out"
}
auth="Authorization: Basic $(printf 'admin:Bench-pw-1' | base64)"
best_h="0 0" best_n="0 0"
for _ in 1 2; do
	h=$(run hostd "https://127.0.0.1:$hp/api/host" -H "$auth")
	n=$(run nginx "https://127.0.0.1:$np/api/host")
	[ "${h%% *}" -gt "${best_h%% *}" ] && best_h=$h
	[ "${n%% *}" -gt "${best_n%% *}" ] && best_n=$n
done
[ "${best_h%% *}" -gt 0 ] || die "wrk got no answer from hostd: see $w/wrk-hostd.txt"
[ "${best_n%% *}" -gt 0 ] || die "wrk got no answer from nginx: see $w/wrk-nginx.txt"
grep -q 'Non-2xx' "$w/wrk-hostd.txt" && die "hostd answered errors: see $w/wrk-hostd.txt"
echo "hostd_rps=${best_h%% *} hostd_p99_ms=${best_h#* } nginx_rps=${best_n%% *} nginx_p99_ms=${best_n#* }"
