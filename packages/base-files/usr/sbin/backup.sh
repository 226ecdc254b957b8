#!/bin/sh
# backup.sh: save the host's configuration into /bootbank/state.tgz, as ESXi's backup.sh does.
# At boot init's `hostcfg restore` unpacks it (an archive without etc/host.conf: its files as they
# are, the host name and root's hash taken into hostcfg's defaults); `bankctl stage` carries it
# into the new bank, and a rollback finds the old bank's copy as it was. `hostcfg save` is the
# configuration's own save (docs/configuration.md); this script is the earlier manual one. The
# files saved are those of /system/etc/state.list that exist. Exit 0 when saved, 1 with a
# message when not (the previous state.tgz stays).
set -u
list=/system/etc/state.list
tmp=/tmp/state.$$.tgz
fail() { echo "backup.sh: $*" >&2; rm -f "$tmp"; mount -o remount,ro /bootbank 2>/dev/null; exit 1; }

grep -q ' /bootbank ' /proc/mounts || fail "/bootbank is not mounted (a live boot has no boot bank); install the host first"
files=$(cd / && for f in $(grep -v '^#' "$list"); do [ -e "$f" ] && echo "$f"; done)
[ -n "$files" ] || fail "none of the files in $list exist; nothing to save"
# shellcheck disable=SC2086
(cd / && tar -czf "$tmp" $files) || fail "cannot pack the configuration into $tmp"
mount -o remount,rw /bootbank || fail "cannot make /bootbank writable"
# The new archive goes in beside the old one, then replaces it: a cut leaves one of the two.
cp "$tmp" /bootbank/state.tgz.new && sync && mv /bootbank/state.tgz.new /bootbank/state.tgz && sync ||
	fail "cannot write /bootbank/state.tgz; the previous one stays"
mount -o remount,ro /bootbank
rm -f "$tmp"
echo "backup.sh: saved" $files "into /bootbank/state.tgz"
