#!/bin/sh
# Set-up for `make` and `make check`: install the Debian packages listed in builder/host-packages
# that are missing (as root, with apt-get), or print the exact command and fail (not root).
set -eu
list=${1:-builder/host-packages}
missing=""
for p in $(grep -v '^#' "$list"); do
	# ${Status} is dpkg-query's field, not a shell variable.
	# shellcheck disable=SC2016
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in *" installed") ;; *) missing="$missing $p" ;; esac
done
# The driver families' firmware (recipes/net-broadcom, storage-fc) is in Debian's
# non-free-firmware component, which a Debian 12 install from netinst media carries but a
# minimal or cloud one often does not: add it (Debian's own archive, nothing else) when no apt
# source names it.
NF=/etc/apt/sources.list.d/imgbuild-non-free-firmware.sources
if ! grep -rqs 'non-free-firmware' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	if [ "$(id -u)" != 0 ]; then
		echo "setup: apt has no non-free-firmware source (the driver families' firmware); as root, add" >&2
		echo "setup:   Types: deb / URIs: http://deb.debian.org/debian / Suites: bookworm bookworm-updates / Components: non-free-firmware" >&2
		echo "setup: to $NF and run apt-get update" >&2
		exit 1
	fi
	printf '%s\n' '# Added by builder/setup.sh: the firmware the image'"'"'s driver families load.' 'Types: deb' \
		'URIs: http://deb.debian.org/debian' 'Suites: bookworm bookworm-updates' 'Components: non-free-firmware' \
		'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' >"$NF"
	echo "setup: added Debian's non-free-firmware component ($NF)" >&2
	apt-get update -qq
fi
# imgbuild fetches the image's Debian packages with apt: it needs an index.
if [ "$(id -u)" = 0 ] && [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' 2>/dev/null | head -n 1)" ]; then
	apt-get update -qq
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "setup: missing host packages:$missing" >&2
	echo "setup: run as root: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi
echo "setup: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# An apt index older than a day may lack the pinned versions; refresh it first.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
	apt-get update -qq
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
