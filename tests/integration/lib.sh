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
