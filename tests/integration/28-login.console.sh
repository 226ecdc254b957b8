#!/bin/bash
# login, the console's way in (packages/login, packages/auth), on a pseudo-terminal of the build
# host with a passwd, shadow and faillock folder of the test's own (--root): the right password
# starts the user's shell as the user, the password is not echoed, a wrong one says "Login
# incorrect", five in a row lock the account (even the right password is refused then), and a
# user without a password is let in and told to set one.
. "$(dirname "$0")/common.sh"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
LOGIN=$OUT/test/login
drive() { python3 "$(dirname "$0")/login-drive.py" "$t/script" -- "$LOGIN" --root "$t/root" >"$t/out" 2>&1; }
n=0
step() { n=$((n + 1)); if "$@"; then echo "ok $n - $WHAT"; else echo "not ok $n - $WHAT"; sed 's/^/#   /' "$t/out"; FAILED=1; fi; }
mkdir -p "$t/root/etc" "$t/root/run" "$t/home"
hash=$(openssl passwd -6 s3cret-pw)
printf 'root:x:0:0:root:/root:/bin/sh\nops:x:1000:991:ops:%s:/bin/sh\nnew:x:1001:992:new:/:/bin/sh\n' "$t/home" >"$t/root/etc/passwd"
printf 'root:!:::::::\nops:%s:::::::\nnew::::::::\n' "$hash" >"$t/root/etc/shadow"

printf 'expect login: \nsend ops\nexpect Password: \nsend s3cret-pw\nsend echo uid=$(id -u) gid=$(id -g) home=$HOME; exit\nexpect uid=\n' >"$t/script"
WHAT="the right password: the user's shell, as the user (uid 1000, gid 991, its home)"
step eval 'drive && grep -q "uid=1000 gid=991 home=$t/home" "$t/out"'
WHAT="the password is not echoed to the terminal"
step eval '! grep -q "s3cret-pw" "$t/out"'

printf 'expect login: \nsend ops\nexpect Password: \nsend wrong\nexpect Login incorrect\n' >"$t/script"
WHAT="a wrong password: Login incorrect"
step drive
rm -rf "$t/root/run/faillock"

printf 'expect login: \nsend ops\nexpect Password: \nsend wrong%s\nexpect Login incorrect\n' 1 2 3 >"$t/script"
drive
printf 'expect login: \nsend ops\nexpect Password: \nsend wrong%s\nexpect Login incorrect\n' 4 5 >"$t/script"
drive
printf 'expect login: \nsend ops\nexpect Password: \nsend s3cret-pw\nexpect Account locked after 5 failed logins\n' >"$t/script"
WHAT="five failures in a row lock the account: the right password is refused, saying so"
step drive
WHAT="the lock is kept in run/faillock/ops (900 s from the fifth failure)"
step eval 'read -r fails until <"$t/root/run/faillock/ops" && [ "$fails" = 5 ] && [ "$until" -gt "$(date +%s)" ]'

printf 'expect login: \nsend new\nexpect Password: \nsend \nexpect no password\nsend id -u; exit\nexpect 1001\n' >"$t/script"
WHAT="a user without a password: let in, and told to set one (hostcfg passwd)"
step eval 'drive && grep -q "new has no password: set one with .hostcfg passwd new." "$t/out"'

printf 'expect login: \nsend root\nexpect Password: \nsend \nexpect Login incorrect\n' >"$t/script"
WHAT="a locked account (hash '!', root before a password is set): refused"
step drive
echo "1..$n"
exit "${FAILED:-0}"
