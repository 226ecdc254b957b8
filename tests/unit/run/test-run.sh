#!/bin/sh
# Unit tests of tests/run's counting (count, setup) on crafted logs. TAP, plan last.
set -u
TESTS_RUN_LIB=1
. "$(dirname "$0")/../../run"
dir=$(mktemp -d /tmp/test-run.XXXXXX)
n=0 failed=0

# check TEXT COND...: one TAP line.
check() {
	what=$1
	shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; failed=1; fi
}

# totals NAME LOG STATUS [plan]: run count (or setup with "setup" as NAME's prefix) from zero;
# leaves "pass fail skip" in $got and its output in $dir/out.
totals() {
	pass=0 fail=0 skip=0
	case $1 in
	setup:*) setup "${1#setup:}" "$2" "$3" >"$dir/out" ;;
	*) count "$@" >"$dir/out" ;;
	esac
	got="$pass $fail $skip"
}
is() { [ "$got" = "$1" ]; }
said() { grep -q -- "$1" "$dir/out"; }

test_count_fails_when_a_script_ends_before_its_plan() {
	printf 'ok 1 - a\nok 2 - b\n1..3\n' >"$dir/short.log"
	totals t "$dir/short.log" 0
	check "count: a script with 2 of its 3 planned results fails (planned 3, ran 2)" \
		eval 'is "2 1 0" && said "planned 3 tests, ran 2"'
}

test_count_fails_when_a_script_prints_more_than_its_plan() {
	printf '1..1\nok 1 - a\nok 2 - b\n' >"$dir/long.log"
	totals t "$dir/long.log" 0
	check "count: a script with more results than its plan fails" eval 'is "2 1 0" && said "planned 1 tests, ran 2"'
}

test_count_passes_when_the_plan_matches() {
	printf 'ok 1 - a\nok 2 - b # SKIP no disk\nnot ok 3 - c\n1..3\n' >"$dir/full.log"
	totals t "$dir/full.log" 1
	check "count: a complete plan counts each result once (1 passed, 1 failed, 1 skipped)" is "1 1 1"
}

test_count_fails_when_a_unit_test_has_no_plan() {
	printf 'ok 1 - a\n' >"$dir/noplan.log"
	totals t "$dir/noplan.log" 0 plan
	check "count: a unit test that prints no plan fails" eval 'is "1 1 0" && said "no TAP plan"'
	totals t "$dir/noplan.log" 0
	check "count: an integration script without a plan is judged by its results" is "1 0 0"
	: >"$dir/empty.log"
	totals t "$dir/empty.log" 0 plan
	check "count: a unit test that printed nothing fails" is "0 1 0"
}

test_count_fails_when_the_status_is_missing() {
	printf 'ok 1 - a\n' >"$dir/nostatus.log"
	totals t "$dir/nostatus.log" missing
	check "count: a TAP script without a status file fails" eval 'is "1 1 0" && said "no exit status: missing"'
	: >"$dir/silent.log"
	totals t "$dir/silent.log" ""
	check "count: a silent script with an empty status fails" eval 'is "0 1 0" && said "no exit status"'
}

test_count_keeps_the_exit_status_rules_when_there_is_no_tap() {
	echo "no qemu" >"$dir/plain.log"
	totals t "$dir/plain.log" 0
	check "count: exit 0 without TAP is one pass" is "1 0 0"
	totals t "$dir/plain.log" 77
	check "count: exit 77 is one skip" eval 'is "0 0 1" && said "skip - t: no qemu"'
	totals t "$dir/plain.log" 2
	check "count: another exit is one failure" is "0 1 0"
	printf '1..0 # SKIP no KVM\n' >"$dir/skipplan.log"
	totals t "$dir/skipplan.log" 0 plan
	check "count: a plan of 1..0 with a SKIP directive is one skip" is "0 0 1"
}

test_setup_is_not_a_test_when_it_passes() {
	printf 'ok 1 - fuzz-a\nok 2 - fuzz-b\n' >"$dir/fuzz.log"
	totals setup:fuzz "$dir/fuzz.log" 0
	check "setup: a good set-up adds to no count" eval 'is "0 0 0" && said "setup ok - fuzz"'
	echo "no clang" >"$dir/skipped.log"
	totals setup:fuzz "$dir/skipped.log" 77
	check "setup: a skipped set-up adds to no count" eval 'is "0 0 0" && said "setup skipped - fuzz: no clang"'
}

test_setup_counts_one_failure_when_it_fails() {
	printf 'ok - fixture v2\nnot ok - fixture v3\n' >"$dir/fixtures.log"
	totals setup:fixtures "$dir/fixtures.log" 1
	check "setup: a failed set-up is one failure" eval 'is "0 1 0" && said "setup FAILED - fixtures (exit 1)"'
	totals setup:fixtures "$dir/fixtures.log" 0
	check "setup: a 'not ok' line fails a set-up that exits 0" is "0 1 0"
}

test_count_fails_when_a_script_ends_before_its_plan
test_count_fails_when_a_script_prints_more_than_its_plan
test_count_passes_when_the_plan_matches
test_count_fails_when_a_unit_test_has_no_plan
test_count_fails_when_the_status_is_missing
test_count_keeps_the_exit_status_rules_when_there_is_no_tap
test_setup_is_not_a_test_when_it_passes
test_setup_counts_one_failure_when_it_fails
rm -rf "$dir"
echo "1..$n"
exit $failed
