#!/bin/bash
# tests/integration/lib.sh - helpers for integration tests that boot images under QEMU (TCG).
#
# Usage (from a bash test):
#   . "$(dirname "$0")/lib.sh"
#   qemu_boot IMAGE FIRMWARE MEDIA PATTERN TIMEOUT_S [extra qemu args...]
#     FIRMWARE  bios | uefi      (uefi uses OVMF_CODE_4M.fd + a private copy of OVMF_VARS_4M.fd)
#     MEDIA     cd | disk        (disk attaches the image raw on virtio-blk with snapshot=on)
#     PATTERN   extended regex (grep -E) searched for in the guest's serial console log
#   Prints "elapsed=<seconds>" on stdout and returns 0 when PATTERN appears; returns 1 on
#   timeout or if QEMU exits first (the last 30 lines of the serial log go to stderr), 2 on
#   bad arguments.  Environment:
#     LOG_DIR         if set, the serial log is also kept as $LOG_DIR/<name>.log
#     QEMU_BOOT_NAME  <name> for that log (default: <image basename>-<firmware>-<media>)
#     QEMU_BOOT_MEM   guest memory in MiB (default 512)
#     OVMF_DIR        where OVMF_CODE_4M.fd / OVMF_VARS_4M.fd live (default /usr/share/OVMF)
#   Always TCG (-accel tcg): QEMU with KVM does not boot on the build machines.
#   Only the QEMU process started here is ever killed; its temp dir is removed on return.

qemu_boot() {
    if [ "$#" -lt 5 ]; then
        echo "usage: qemu_boot IMAGE bios|uefi cd|disk PATTERN TIMEOUT_S [qemu args...]" >&2
        return 2
    fi
    local image=$1 firmware=$2 media=$3 pattern=$4 timeout_s=$5
    shift 5
    local ovmf_dir=${OVMF_DIR:-/usr/share/OVMF}
    local name=${QEMU_BOOT_NAME:-$(basename "$image")-$firmware-$media}
    local dir serial pid start now elapsed rc=1
    local -a args

    if [ ! -r "$image" ]; then
        echo "qemu_boot: cannot read image $image" >&2
        return 2
    fi
    case $timeout_s in
        '' | *[!0-9]*) echo "qemu_boot: TIMEOUT_S must be whole seconds" >&2; return 2 ;;
    esac

    dir=$(mktemp -d "${TMPDIR:-/tmp}/qemu_boot.XXXXXX") || return 2
    serial=$dir/serial.log
    : >"$serial"

    args=(-accel tcg -m "${QEMU_BOOT_MEM:-512}" -display none -no-reboot
          -nic none -monitor none -serial "file:$serial")
    case $firmware in
        bios) ;;
        uefi)
            if ! cp "$ovmf_dir/OVMF_VARS_4M.fd" "$dir/OVMF_VARS_4M.fd"; then
                rm -rf "$dir"
                return 2
            fi
            args+=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$ovmf_dir/OVMF_CODE_4M.fd"
                   -drive "if=pflash,format=raw,unit=1,file=$dir/OVMF_VARS_4M.fd")
            ;;
        *) echo "qemu_boot: FIRMWARE must be bios or uefi" >&2; rm -rf "$dir"; return 2 ;;
    esac
    case $media in
        cd) args+=(-drive "file=$image,format=raw,if=ide,media=cdrom,readonly=on" -boot order=d) ;;
        disk) args+=(-drive "file=$image,format=raw,if=virtio,snapshot=on" -boot order=c) ;;
        *) echo "qemu_boot: MEDIA must be cd or disk" >&2; rm -rf "$dir"; return 2 ;;
    esac
    args+=("$@")

    start=$(date +%s.%N)
    # timeout bounds QEMU even if this shell dies before it can kill it.
    timeout -k 5 "$((timeout_s + 30))" qemu-system-x86_64 "${args[@]}" \
        </dev/null >"$dir/qemu.out" 2>&1 &
    pid=$!

    while :; do
        if grep -aqE -- "$pattern" "$serial"; then
            rc=0
            break
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            # QEMU is gone: the pattern may have been written just before it exited.
            grep -aqE -- "$pattern" "$serial" && rc=0
            break
        fi
        now=$(date +%s.%N)
        if awk -v s="$start" -v n="$now" -v t="$timeout_s" 'BEGIN { exit !(n - s >= t) }'; then
            break
        fi
        sleep 0.1
    done
    now=$(date +%s.%N)
    elapsed=$(awk -v s="$start" -v n="$now" 'BEGIN { printf "%.1f", n - s }')

    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null

    if [ -n "${LOG_DIR:-}" ]; then
        mkdir -p "$LOG_DIR" && cp "$serial" "$LOG_DIR/$name.log"
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
