#!/bin/bash
# vmm refuses bad input with one clear line (what is wrong; what to do), exit status 1 and no
# crash: a corrupt or truncated bzImage, missing files, memory too small or too large, bad
# options, bad configuration files. These fail before a vCPU runs, so the host's /dev/kvm will do
# (and none is needed for most). Also: --help documents every option and the exit statuses.
set -u
cd "$(dirname "$0")/../.."
OUT=${OUT:-out}
VMM=$OUT/bin/vmm
[ -x "$VMM" ] || { echo "no $VMM: run make"; exit 1; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/vmm-bad.XXXXXX")
trap 'rm -rf "$dir"' EXIT
K=$OUT/test/guest-bzImage
n=0

# refuses DESCRIPTION EXPECTED-MESSAGE VMM-ARGS...: status 1, one "vmm: ..." line with the message.
refuses() {
	local what=$1 want=$2 out st
	shift 2
	n=$((n + 1))
	out=$(timeout 20 "$VMM" "$@" 2>&1 </dev/null)
	st=$?
	if [ "$st" -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] && [[ $out == "vmm: "*"$want"* ]] && [[ $out == *"; "* ]]; then
		echo "ok $n - $what: $out"
	else
		echo "not ok $n - $what (exit $st, wanted '$want')"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
}

head -c 3000000 /dev/urandom >"$dir/random"
printf 'not a kernel' >"$dir/tiny"
head -c 4096 "$K" >"$dir/truncated"
cp "$K" "$dir/badmagic" && printf 'XXXX' | dd of="$dir/badmagic" bs=1 seek=514 conv=notrunc 2>/dev/null
: >"$dir/disk.img"
mkdir "$dir/adir"

refuses "random bytes as kernel" "is not a Linux bzImage" --kernel "$dir/random"
refuses "a 12-byte kernel" "is not a Linux bzImage" --kernel "$dir/tiny"
refuses "a truncated bzImage" "is truncated" --kernel "$dir/truncated"
refuses "a bzImage with a corrupt header magic" "no boot header" --kernel "$dir/badmagic"
refuses "a missing kernel" "kernel $dir/none: No such file or directory" --kernel "$dir/none"
refuses "a folder as kernel" "is not a file" --kernel "$dir/adir"
refuses "a missing initrd" "initrd $dir/none: No such file" --kernel "$K" --initrd "$dir/none"
refuses "a missing disk" "disk $dir/none.img: No such file" --kernel "$K" --disk "$dir/none.img"
refuses "an option without its value" "option '--kernel' needs a value" --kernel
refuses "no kernel" "no kernel given; give --kernel FILE" --mem 64M
refuses "memory too small" "memory 4096 KiB is too small; give at least 16 MiB" --kernel "$K" --mem 4M
refuses "memory too large" "memory 65536 MiB is too large" --kernel "$K" --mem 64G
refuses "memory not a size" "--mem 'lots' is not a size" --kernel "$K" --mem lots
refuses "0 CPUs" "--cpus '0' is not a number from 1 to 8" --kernel "$K" --cpus 0
refuses "too many CPUs" "--cpus '99' is not a number" --kernel "$K" --cpus 99
refuses "a bad MAC" "bad NIC option" --kernel "$K" --net "tap0,mac=zz"
refuses "a bad console" "console 'tcp:1' is unknown" --kernel "$K" --console tcp:1
refuses "an unknown option" "bad option '--frobnicate'; see vmm --help" --kernel "$K" --frobnicate
refuses "--config mixed with options" "--config cannot be mixed" --config "$dir/vm.cfg" --mem 64M
refuses "a missing config file" "cannot open config file $dir/none.cfg" --config "$dir/none.cfg"
printf 'name = t\nmemroy = 64M\n' >"$dir/typo.cfg"
refuses "a config key misspelt" "$dir/typo.cfg:2: unknown key 'memroy'; did you mean 'memory'?" --config "$dir/typo.cfg"
printf 'kernel = nothere\n' >"$dir/rel.cfg"
refuses "a config's missing kernel, relative to the file" "$dir/rel.cfg:1: kernel $dir/nothere: No such file" --config "$dir/rel.cfg"
printf 'kernel = %s\nmemory = 8M\n' "$K" >"$dir/small.cfg"
refuses "a config's memory too small" "$dir/small.cfg:2: memory 8192 KiB is too small" --config "$dir/small.cfg"
printf 'kernel = %s\ncpus = 2\ncpus = 3\n' "$K" >"$dir/twice.cfg"
refuses "a config key given twice" "$dir/twice.cfg:3: 'cpus' given twice; keep one" --config "$dir/twice.cfg"
printf 'ELF\0\1\2binary' >"$dir/garbage.cfg"
refuses "a binary config file" "$dir/garbage.cfg:1:" --config "$dir/garbage.cfg"
refuses "memory too small for the kernel" "memory 16 MiB is too small for this kernel" --kernel "$K" --mem 16M
head -c 40000000 /dev/zero >"$dir/big.initrd"
refuses "an initrd larger than memory" "is too small for the kernel and a 39062 KiB initrd; give more memory" \
	--kernel "$K" --initrd "$dir/big.initrd" --mem 40M

n=$((n + 1))
help=$("$VMM" --help)
missing=""
for o in --kernel --initrd --cmdline --mem --cpus --disk --net --console --config --help --version "Exit status" \
	"0  the guest powered off" "2  the guest rebooted" "3  stopped by a signal"; do
	[[ $help == *"$o"* ]] || missing="$missing '$o'"
done
[ -z "$missing" ] && echo "ok $n - --help documents every option and the exit statuses" ||
	echo "not ok $n - --help lacks$missing"
echo "1..$n"
