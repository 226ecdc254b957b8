#!/bin/bash
# tests/integration/lib.sh - shared helpers for integration tests that boot images in QEMU.
#
# Usage, from a bash test script:
#   . "$(dirname "$0")/lib.sh"
#   qemu_boot IMAGE FIRMWARE MEDIA PATTERN TIMEOUT_S [extra qemu args...]
#     FIRMWARE   bios | uefi   (uefi: OVMF_CODE_4M.fd read-only + a private OVMF_VARS_4M.fd copy)
#     MEDIA      cd | disk | disk-rw (cd: IDE CD-ROM; disk: raw virtio-blk disk with snapshot=on;
#                disk-rw: the same without snapshot, so the boot state persists in the file)
#     PATTERN    extended regex (grep -E) looked for in the guest's serial console (ttyS0)
#     TIMEOUT_S  whole seconds to wait for PATTERN
#   On a match: prints "elapsed=<seconds>" on stdout, stops QEMU and returns 0.
#   On timeout, or if QEMU exits without the match: prints the last 30 lines of the serial
#   log on stderr and returns 1.  Bad arguments return 2.
#   Environment (all optional):
#     LOG_DIR         also keep the serial log as $LOG_DIR/<name>.log (made if missing)
#     QEMU_BOOT_NAME  <name> of that log; default <image basename>-<firmware>-<media>
#     QEMU_BOOT_MEM   guest RAM in MiB; default 512
#     OVMF_DIR        directory holding OVMF_CODE_4M.fd and OVMF_VARS_4M.fd; default /usr/share/OVMF
#   Safe to call from scripts running with set -euo pipefail (use it as `qemu_boot ... || ...`).
#   QEMU always runs with -accel tcg (KVM does not boot guests on the build machines).
#   Only the QEMU started here is stopped; its temporary directory is removed on return.

qemu_boot() {
    if [ "$#" -lt 5 ]; then
        echo "usage: qemu_boot IMAGE bios|uefi cd|disk PATTERN TIMEOUT_S [qemu args...]" >&2
        return 2
    fi
    local image=$1 firmware=$2 media=$3 pattern=$4 timeout_s=$5
    shift 5
    local ovmf_dir=${OVMF_DIR:-/usr/share/OVMF}
    local name=${QEMU_BOOT_NAME:-$(basename "$image")-$firmware-$media}
    local dir serial pid start_us now_us deadline_us elapsed rc=1
    local -a args

    if [ ! -r "$image" ]; then
        echo "qemu_boot: cannot read image '$image'" >&2
        return 2
    fi
    case $timeout_s in
        '' | *[!0-9]*) echo "qemu_boot: TIMEOUT_S must be whole seconds" >&2; return 2 ;;
    esac
    case $firmware in
        bios | uefi) ;;
        *) echo "qemu_boot: FIRMWARE must be bios or uefi" >&2; return 2 ;;
    esac
    case $media in
        cd | disk | disk-rw) ;;
        *) echo "qemu_boot: MEDIA must be cd, disk or disk-rw" >&2; return 2 ;;
    esac

    dir=$(mktemp -d "${TMPDIR:-/tmp}/qemu_boot.XXXXXX") || return 2
    serial=$dir/serial.log
    : >"$serial"

    args=(-accel tcg -m "${QEMU_BOOT_MEM:-512}" -display none -no-reboot
          -nic none -monitor none -serial "file:$serial")
    if [ "$firmware" = uefi ]; then
        if ! cp "$ovmf_dir/OVMF_VARS_4M.fd" "$dir/OVMF_VARS_4M.fd"; then
            rm -rf "$dir"
            return 2
        fi
        args+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=${ovmf_dir//,/,,}/OVMF_CODE_4M.fd"
               -drive "if=pflash,format=raw,unit=1,file=${dir//,/,,}/OVMF_VARS_4M.fd")
    fi
    # A comma in a -drive file= value must be doubled.
    if [ "$media" = cd ]; then
        args+=(-drive "file=${image//,/,,},format=raw,if=ide,media=cdrom,readonly=on" -boot order=d)
    elif [ "$media" = disk-rw ]; then
        # An installed disk: the boot state GRUB and init write must persist between boots.
        args+=(-drive "file=${image//,/,,},format=raw,if=virtio" -boot order=c)
    else
        args+=(-drive "file=${image//,/,,},format=raw,if=virtio,snapshot=on" -boot order=c)
    fi
    args+=("$@")

    start_us=${EPOCHREALTIME/[.,]/}
    deadline_us=$((start_us + timeout_s * 1000000))
    # timeout(1) bounds QEMU even if this shell dies before it can stop it.
    timeout -k 5 "$((timeout_s + 30))" qemu-system-x86_64 "${args[@]}" \
        </dev/null >"$dir/qemu.out" 2>&1 &
    pid=$!

    while :; do
        if grep -aqE -- "$pattern" "$serial"; then
            rc=0
            break
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            # QEMU has exited: the match may have been written just before it did.
            if grep -aqE -- "$pattern" "$serial"; then
                rc=0
            fi
            break
        fi
        now_us=${EPOCHREALTIME/[.,]/}
        if [ "$now_us" -ge "$deadline_us" ]; then
            break
        fi
        sleep 0.1
    done
    now_us=${EPOCHREALTIME/[.,]/}
    elapsed=$(( (now_us - start_us) / 1000000 )).$(( (now_us - start_us) / 100000 % 10 ))

    # Stop our own QEMU (via its timeout wrapper) and reap it; never fail the caller's set -e.
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true

    if [ -n "${LOG_DIR:-}" ]; then
        { mkdir -p "$LOG_DIR" && cp "$serial" "$LOG_DIR/$name.log"; } || true
    fi
    if [ "$rc" -eq 0 ]; then
        echo "elapsed=$elapsed"
    else
        {
            echo "qemu_boot: '$pattern' not seen after ${elapsed}s ($name); last 30 lines of serial log:"
            tail -n 30 "$serial" | tr -d '\r' | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g'
            if [ -s "$dir/qemu.out" ]; then
                echo "qemu_boot: qemu output:"
                tail -n 10 "$dir/qemu.out"
            fi
        } >&2
    fi
    rm -rf "$dir"
    return "$rc"
}

# An interactive session, for tests that type at the appliance's console shell:
#   qemu_start IMAGE FIRMWARE MEDIA [qemu args...]   start QEMU in the background (as qemu_boot),
#                    the serial console's input on a pipe; sets QEMU_DIR and QEMU_PID
#   qemu_send TEXT   type TEXT and Enter on the console
#   qemu_wait PATTERN TIMEOUT_S   wait for PATTERN (grep -E) in the console output after the
#                    last qemu_mark; 0 when seen, 1 on timeout or when QEMU is gone
#   qemu_mark        later qemu_wait calls look only at output from here on
#   qemu_kill        kill -9 QEMU at once (a power cut), keep the log in $LOG_DIR, clean up
# Every run is bounded by timeout(1) (QEMU_MAX_S, default 600 s).
qemu_start() {
    local image=$1 firmware=$2 media=$3 ovmf_dir=${OVMF_DIR:-/usr/share/OVMF}
    shift 3
    local -a args
    QEMU_DIR=$(mktemp -d "${TMPDIR:-/tmp}/qemu_session.XXXXXX") || return 2
    : >"$QEMU_DIR/serial.log"
    args=(-accel tcg -m "${QEMU_BOOT_MEM:-512}" -display none -no-reboot -nic none -monitor none
          -chardev "pipe,id=con,path=$QEMU_DIR/con" -serial chardev:con)
    mkfifo "$QEMU_DIR/con.in" "$QEMU_DIR/con.out"
    if [ "$firmware" = uefi ]; then
        cp "$ovmf_dir/OVMF_VARS_4M.fd" "$QEMU_DIR/" || return 2
        args+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$ovmf_dir/OVMF_CODE_4M.fd"
               -drive "if=pflash,format=raw,unit=1,file=$QEMU_DIR/OVMF_VARS_4M.fd")
    fi
    case $media in
    cd) args+=(-drive "file=${image//,/,,},format=raw,if=ide,media=cdrom,readonly=on" -boot order=d) ;;
    disk-rw) args+=(-drive "file=${image//,/,,},format=raw,if=virtio" -boot order=c) ;;
    *) args+=(-drive "file=${image//,/,,},format=raw,if=virtio,snapshot=on" -boot order=c) ;;
    esac
    timeout -k 5 "${QEMU_MAX_S:-600}" qemu-system-x86_64 "${args[@]}" "$@" </dev/null >"$QEMU_DIR/qemu.out" 2>&1 &
    QEMU_PID=$!
    # The console's output into the log; its input held open on fd 7 for qemu_send.
    cat "$QEMU_DIR/con.out" >>"$QEMU_DIR/serial.log" &
    exec 7>"$QEMU_DIR/con.in"
    QEMU_MARK=0
}

qemu_send() {
    printf '%s\r' "$1" >&7
}

# qemu_login [USER [PASSWORD]]: log in at the console's login prompt (packages/login; default
# root without a password, as an unconfigured host has) and wait for the shell; 0 when it answers.
# The console runs the DCUI (packages/dcui): its L key (Alt-F1) starts the login prompt on it, and
# Enter has it draw its screen again (or a login prompt print itself again), in case it was up
# before the last qemu_mark.
qemu_login() {
    local user=${1:-root} password=${2:-} deadline=$((SECONDS + 90))
    while [ "$SECONDS" -lt "$deadline" ]; do
        qemu_wait 'login: $' 1 && break
        if qemu_wait '<L> Shell login' 1; then
            qemu_mark; qemu_keys 'l'
            qemu_wait 'login: $' 10 && break
        fi
        qemu_mark; qemu_send ''
    done
    qemu_mark; qemu_send "$user"
    qemu_wait 'Password: ' 20 || return 1
    qemu_mark; qemu_send "$password"
    qemu_wait 'Login incorrect|Account locked|[#$] ' 30 && sleep 0.5 && qemu_mark && qemu_send 'echo logged-in-$((6*7))' &&
        qemu_wait 'logged-in-42' 20
}

qemu_mark() {
    QEMU_MARK=$(stat -c %s "$QEMU_DIR/serial.log")
}

qemu_wait() {
    local pattern=$1 deadline=$((SECONDS + $2))
    while [ "$SECONDS" -lt "$deadline" ]; do
        tail -c +"$((QEMU_MARK + 1))" "$QEMU_DIR/serial.log" | tr -d '\r' | grep -aqE -- "$pattern" && return 0
        kill -0 "$QEMU_PID" 2>/dev/null || break
        sleep 0.2
    done
    tail -c +"$((QEMU_MARK + 1))" "$QEMU_DIR/serial.log" | tr -d '\r' | grep -aqE -- "$pattern"
}

# qemu_log: the console output so far, without carriage returns.
qemu_log() {
    tr -d '\r' <"$QEMU_DIR/serial.log"
}

qemu_kill() {
    pkill -9 -P "$QEMU_PID" qemu-system-x86 2>/dev/null
    kill -9 "$QEMU_PID" 2>/dev/null
    wait "$QEMU_PID" 2>/dev/null
    exec 7>&-
    wait 2>/dev/null
    if [ -n "${LOG_DIR:-}" ] && [ -n "${QEMU_BOOT_NAME:-}" ]; then
        mkdir -p "$LOG_DIR" && cp "$QEMU_DIR/serial.log" "$LOG_DIR/$QEMU_BOOT_NAME.log"
    fi
    rm -rf "$QEMU_DIR"
}

# qemu_keys KEYS: type KEYS as they are (printf %b escapes: '\e[B' is the down arrow).
qemu_keys() {
    printf '%b' "$1" >&7
}
