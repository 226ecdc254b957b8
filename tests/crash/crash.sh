#!/bin/bash
# tests/crash/crash.sh: power cuts at every write (issue 13, point 3).
#
# For each command that changes a boot disk, the calls that change it (write, pwrite, writev,
# fsync, fdatasync, ftruncate, fallocate, rename: of the disk image, in bankctl and in the mtools
# children it runs) are counted once (tests/crash/crashshim.so, LD_PRELOAD, one counter for the
# process group); then, for every N, the command runs again on a fresh copy and the power is cut
# (the process group killed with SIGKILL) at the N-th call:
#   before    before the call takes effect
#   after     right after it completed
#   torn1/2   for each 1024-byte write (a boot-state copy): only its first, or only its second,
#             512-byte sector reaches the disk
# and the disk left is judged: the boot state is readable (a valid copy), and the bank the C model
# picks (bootbank/bank.c bank_choose, as `bankctl status --json` reports it with each bank's files)
# is good or a trial with tries left, has its files, and is whole: its 100 MiB are byte for byte
# those of a disk (before the command, or after it completed) where that bank was good or on trial.
#
# Commands: bankctl stage (onto an empty bank, from the file and from a pipe; over a good bank with a saved configuration, so that
# mtools writes too), mark-good, rollback; init's commit and the installer's first state
# (tests/crash/statecommit: bootbank/bootstate.c on the copies taken out of the ESP, as init and the
# installer write them on the mounted ESP); the installer's image write (`bankctl install`: the same
# image/extents.c extents_write as the installer's image_write).
#
# install-image is not in the default set: a cut between the image's ESP and the end of bank A
# leaves a state that says A good over a half-written A (reported as TODO; see docs/ab-boot.md).
#
# Environment: OUT (out), CRASH_SCENARIOS (the commands; default all but install-image), CRASH_SAMPLE=K (every K-th crash point of each kind, counting from the
# last; 1 = all, the default), CRASH_BOOTS=N (boot N of each command's cut disks in QEMU, 0 by
# default), CRASH_KEEP=DIR (keep every judged disk's verdict there). Prints TAP (a 1..N plan) and
# "crash points covered: ..." per command.
. "$(dirname "$0")/../integration/common.sh"
set -u
export MTOOLS_SKIP_CHECK=1
SHIM=$PWD/$OUT/test/crash/crashshim.so
STATECOMMIT=$PWD/$OUT/test/crash/statecommit
SAMPLE=${CRASH_SAMPLE:-1}
BOOTS=${CRASH_BOOTS:-0}
ESP=$((4096 * 512))
BANK_AT=($((69632 * 512)) $((274432 * 512)))
BANK_LEN=$((100 * 1048576))
for f in "$SHIM" "$STATECOMMIT" "$DISK_IMG" "$VARIANTS/v2.bundle" "$VARIANTS/v3-panics.bundle"; do
	[ -e "$f" ] || { echo "crash.sh: $f:1: missing; run make crash (or make, and tests/integration/fixtures.sh)"; exit 77; }
done
# The clock stands still (libfaketime): what mtools writes (a file's time in its directory entry)
# is then the same in every run, and a bank is compared byte for byte.
FAKETIME_LIB=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1
NOW=$(date '+%Y-%m-%d %H:%M:%S')
[ -e "$FAKETIME_LIB" ] || { echo "crash.sh: $FAKETIME_LIB:1: missing; install faketime (builder/host-packages)"; exit 77; }
w=$(mktemp -d "${TMPDIR:-/tmp}/crash.XXXXXX")
trap 'rm -rf "$w"' EXIT
# A command killed between writing a scratch file (bankctl's for mcopy) and removing it leaves it
# behind: in $w, not in /tmp.
mkdir "$w/tmp" && export TMPDIR=$w/tmp

# cut N MODE FILES CMD...: run CMD in a process group of its own, the power cut at the N-th
# change of FILES (N = 0: never; the calls are logged to $w/calls).
cut() {
	local n=$1 mode=$2 files=$3
	shift 3
	: >"$w/counter"
	rm -f "$w/calls"
	# (a subshell, so that bash's "Killed" note goes nowhere)
	(CRASH_FILES=$files CRASH_COUNTER=$w/counter CRASH_AT=$n CRASH_MODE=$mode CRASH_LOG=$w/calls \
		LD_PRELOAD=$SHIM${FAKETIME_LIB:+:$FAKETIME_LIB} FAKETIME=$NOW setsid -w "$@" >"$w/cmd.log" 2>&1; echo $? >"$w/status") 2>/dev/null
}

# env_off DISK: byte offsets of envA's and envB's data on DISK (they never move).
env_off() {
	python3 tests/crash/fatsectors.py "$1" "$ESP" "$BANK_ENV_A" "$BANK_ENV_B" | sed 's/.* data=\([0-9]*\).*/\1/' |
		while read -r s; do echo $((s * 512)); done | tr '\n' ' '
}
BANK_ENV_A=/grub/a/envA BANK_ENV_B=/grub/b/envB

# run_cmd SCENARIO N MODE DISK: the scenario's command on DISK, cut at N (0: let it finish).
run_cmd() {
	local scen=$1 n=$2 mode=$3 disk=$4 off
	case $scen in
	stage) cut "$n" "$mode" "$disk" "$BANKCTL" --disk "$disk" stage "$VARIANTS/v2.bundle" ;;
	stage-over) cut "$n" "$mode" "$disk" "$BANKCTL" --disk "$disk" stage "$VARIANTS/v3-panics.bundle" ;;
	# The bundle on a pipe: staged in one pass (docs/ab-boot.md); cat is in the process group too.
	stage-pipe) cut "$n" "$mode" "$disk" sh -c 'cat "$1" | "$2" --disk "$3" stage -' sh "$VARIANTS/v2.bundle" "$BANKCTL" "$disk" ;;
	mark-good) cut "$n" "$mode" "$disk" "$BANKCTL" --disk "$disk" mark-good B ;;
	rollback) cut "$n" "$mode" "$disk" "$BANKCTL" --disk "$disk" rollback ;;
	install-image) cut "$n" "$mode" "$disk" "$BANKCTL" --disk "$disk" install "$DISK_IMG" ;;
	init | init-fresh | install-state)
		read -r -a off <<<"$ENV_OFF"
		dd if="$disk" of="$w/envA" bs=1 skip="${off[0]}" count=1024 status=none
		dd if="$disk" of="$w/envB" bs=1 skip="${off[1]}" count=1024 status=none
		if [ "$scen" = install-state ]; then
			cut "$n" "$mode" "$w/envA:$w/envB" "$STATECOMMIT" "$w/envA" "$w/envB" first
		else
			cut "$n" "$mode" "$w/envA:$w/envB" "$STATECOMMIT" "$w/envA" "$w/envB" mark-good B
		fi
		dd if="$w/envA" of="$disk" bs=1 seek="${off[0]}" conv=notrunc status=none
		dd if="$w/envB" of="$disk" bs=1 seek="${off[1]}" conv=notrunc status=none ;;
	esac
}

# status DISK: "valid next trial A_state A_tries A_files B_state B_tries B_files" from bankctl.
status() {
	"$BANKCTL" --disk "$1" status --json 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
b = d["banks"]
print(d["state_valid"], d["next"], d["next_is_trial"], *[x for i in (0, 1) for x in (b[i]["state"], b[i]["tries"], b[i]["files"])])' 2>/dev/null ||
		echo "unreadable"
}

# bootable STATUS BANK(0|1): the bank is good, or on trial with tries left, and has its files.
bootable() {
	local -a s
	read -r -a s <<<"$1"
	local st=${s[3 + 3 * $2]} tries=${s[4 + 3 * $2]} files=${s[5 + 3 * $2]}
	[ "$files" = True ] && { [ "$st" = good ] || { [ "$st" = trial ] && [ "$tries" -gt 0 ]; }; }
}

same_bank() {
	cmp -s -i "${BANK_AT[$3]}:${BANK_AT[$3]}" -n "$BANK_LEN" "$1" "$2"
}

# judge SCENARIO DISK: empty when the disk boots a good bank or a whole trial, else why not.
judge() {
	local scen=$1 disk=$2 s next i
	s=$(status "$disk")
	[ "$s" = unreadable ] && { echo "bankctl status cannot read the disk"; return; }
	read -r -a f <<<"$s"
	next=${f[1]}
	[ "$next" = A ] && i=0 || i=1
	[ "$next" = None ] && { echo "no bank boots ($s)"; return; }
	if [ "${f[0]}" != True ]; then
		# No valid copy is only as bad as before when the disk started without one (GRUB then
		# boots a bank with files, and init writes a fresh state): that bank must be whole.
		read -r -a f <<<"$(cat "$w/$scen.pre.status")"
		[ "${f[0]}" = True ] && { echo "no valid boot-state copy ($s)"; return; }
		read -r -a f <<<"$s"
		[ "${f[5 + 3 * i]}" = True ] || { echo "no valid boot-state copy, and bank $next has no files ($s)"; return; }
		same_bank "$disk" "$w/$scen.pre" "$i" || same_bank "$disk" "$w/$scen.post" "$i" ||
			echo "no valid boot-state copy, and bank $next is not whole ($s)"
		return
	fi
	bootable "$s" "$i" || { echo "bank $next is picked but is not good or a trial with tries and files ($s)"; return; }
	if same_bank "$disk" "$w/$scen.pre" "$i" && bootable "$(cat "$w/$scen.pre.status")" "$i"; then
		return
	fi
	if same_bank "$disk" "$w/$scen.post" "$i" && bootable "$(cat "$w/$scen.post.status")" "$i"; then
		return
	fi
	echo "bank $next is picked ($s) but its bytes are those of no disk where it was whole and bootable"
}

# prepare: each scenario's starting disk ($w/SCEN.pre) and the disk its command leaves ($w/SCEN.post).
prepare() {
	cp --sparse=always "$DISK_IMG" "$w/stage.pre"
	cp --sparse=always "$DISK_IMG" "$w/stage-pipe.pre"
	# stage-over: B staged (v2) and marked good, with a saved configuration; v3 goes into A.
	cp --sparse=always "$DISK_IMG" "$w/stage-over.pre"
	"$BANKCTL" --disk "$w/stage-over.pre" stage "$VARIANTS/v2.bundle" >/dev/null
	"$BANKCTL" --disk "$w/stage-over.pre" mark-good B >/dev/null
	head -c 3000 /dev/urandom >"$w/state.tgz"
	mcopy -i "$w/stage-over.pre@@${BANK_AT[1]}" "$w/state.tgz" ::/state.tgz
	# mark-good, init: B staged, on trial; rollback: B good, A good and older.
	cp --sparse=always "$DISK_IMG" "$w/mark-good.pre"
	"$BANKCTL" --disk "$w/mark-good.pre" stage "$VARIANTS/v2.bundle" >/dev/null
	cp --sparse=always "$w/mark-good.pre" "$w/init.pre"
	cp --sparse=always "$w/mark-good.pre" "$w/rollback.pre"
	"$BANKCTL" --disk "$w/rollback.pre" mark-good B >/dev/null
	# init-fresh: both copies destroyed; GRUB booted B (last resort), init writes a fresh state.
	cp --sparse=always "$w/mark-good.pre" "$w/init-fresh.pre"
	ENV_OFF=$(env_off "$w/init.pre")
	local off
	for off in $ENV_OFF; do
		head -c 1024 /dev/urandom | dd of="$w/init-fresh.pre" bs=1 seek="$off" conv=notrunc status=none
	done
	# install-image: a disk holding an older install (B staged and good) overwritten by the image;
	# install-state: the image written, then the installer's first state.
	cp --sparse=always "$w/rollback.pre" "$w/install-image.pre"
	cp --sparse=always "$DISK_IMG" "$w/install-state.pre"
	for scen in $SCENARIOS; do
		cp --sparse=always "$w/$scen.pre" "$w/$scen.post"
		run_cmd "$scen" 0 before "$w/$scen.post"
		[ "$(cat "$w/status")" = 0 ] && [ -s "$w/calls" ] ||
			{ echo "crash.sh: $scen:1: the command fails, or writes nothing, uncut: $(cat "$w/cmd.log"); fix it first"; exit 1; }
		cp "$w/calls" "$w/$scen.calls"
		status "$w/$scen.pre" >"$w/$scen.pre.status"
		status "$w/$scen.post" >"$w/$scen.post.status"
	done
}

# points SCENARIO MODE: the crash points of a kind, every SAMPLE-th counting back from the last.
points() {
	local scen=$1 mode=$2 total
	total=$(wc -l <"$w/$scen.calls")
	case $mode in
	torn*) awk '$4 == 1024 { print $1 }' "$w/$scen.calls" ;;
	*) seq "$total" ;;
	esac | tac | awk -v k="$SAMPLE" '(NR - 1) % k == 0' | tac
}

SCENARIOS=${CRASH_SCENARIOS:-stage stage-pipe stage-over mark-good rollback init init-fresh install-state}
prepare
declare -A covered
n=0 total=0
plan=$(( $(echo $SCENARIOS | wc -w) * 3 ))
[ "$BOOTS" -gt 0 ] || echo "1..$plan"
for scen in $SCENARIOS; do
	calls=$(wc -l <"$w/$scen.calls")
	for kind in before after torn; do
		modes=$kind
		[ "$kind" = torn ] && modes="torn1 torn2"
		count=0 bad=0 why=
		for mode in $modes; do
			for p in $(points "$scen" "$mode"); do
				cp --sparse=always "$w/$scen.pre" "$w/d.img"
				run_cmd "$scen" "$p" "$mode" "$w/d.img"
				v=$(judge "$scen" "$w/d.img")
				count=$((count + 1))
				if [ -n "$v" ]; then
					bad=$((bad + 1))
					[ -z "$why" ] && why="$mode at call $p ($(sed -n "${p}p" "$w/$scen.calls" | awk '{print $2, "offset", $3, "length", $4}')): $v"
					cp --sparse=always "$w/d.img" "$w/$scen-bad-$mode-$p.img"
				elif [ "$BOOTS" -gt 0 ]; then
					cp --sparse=always "$w/d.img" "$w/$scen-ok-$mode-$p.img"
				fi
				[ -n "${CRASH_KEEP:-}" ] && mkdir -p "$CRASH_KEEP" && echo "$scen $mode $p ${v:-ok}" >>"$CRASH_KEEP/verdicts"
			done
		done
		covered[$scen]=$(( ${covered[$scen]:-0} + count ))
		total=$((total + count))
		n=$((n + 1))
		what="$scen: $count crash points ($kind, of $calls calls that change the disk$([ "$SAMPLE" -gt 1 ] && echo ", every ${SAMPLE}th"))"
		todo=
		[ "$scen" = install-image ] && todo=" # TODO the disk image carries a valid boot state (A good) in its ESP, written before bank A"
		if [ "$bad" = 0 ]; then
			echo "ok $n - $what: each disk boots a good bank or a whole trial"
		else
			echo "not ok $n - $what: $bad disks do not; the first: $why$todo"
			[ -z "$todo" ] && FAILED=1
		fi
	done
done
# boot_sample SCENARIO: boot up to BOOTS of its judged disks (spread over its crash points) in
# QEMU (BIOS), each to BOOT-OK from the bank the model picks. stage-over stages v3, which panics
# on purpose: its disks are not booted.
boot_sample() {
	local scen=$1 all k=0 disk next
	[ "$scen" = stage-over ] && return
	mapfile -t all < <(ls "$w/$scen"-ok-*.img 2>/dev/null)
	[ "${#all[@]}" -gt 0 ] || return
	for i in $(seq 0 $((BOOTS - 1))); do
		disk=${all[$((i * (${#all[@]} - 1) / (BOOTS > 1 ? BOOTS - 1 : 1)))]}
		next=$(next_bank "$disk")
		n=$((n + 1)) k=$((k + 1))
		NAME_PREFIX=crash-$scen boot_expect "$n" "$disk" bios "BOOT-OK bank=$next version=" \
			"$(basename "$disk" .img) boots BOOT-OK from bank $next, the bank the model picks"
		[ "$k" -ge "${#all[@]}" ] && break
	done
}
if [ "$BOOTS" -gt 0 ]; then
	for scen in $SCENARIOS; do
		boot_sample "$scen"
	done
	echo "1..$n"
fi
for scen in $SCENARIOS; do
	echo "# crash points covered: $scen ${covered[$scen]}"
done
echo "# crash points covered: total $total"
exit $FAILED
