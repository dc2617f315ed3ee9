#!/bin/sh
# convert.sh XENSIM SCENARIO FINDINGS_DIR WORKDIR - a schedule fuzzer's
# finding becomes a replay file (xensim fuzz-replay) that replay, replay
# --explain and shrink take: the failure reproduces with the recorded
# digest, --explain shows the handoffs, shrink keeps the failure.
set -u
x=$1 scn=$2 dir=$3 work=$4
fail() { echo "convert: $*"; exit 1; }
rm -rf "$work"
mkdir -p "$work" || exit 1
in=$(ls "$dir"/* | head -n 1)
[ -n "$in" ] || fail "no finding in $dir"

"$x" fuzz-replay "$scn" "$in" --out "$work/f.replay.json" >"$work/convert.out" 2>&1
rc=$?; cat "$work/convert.out"
[ "$rc" -eq 1 ] || fail "fuzz-replay exit $rc, expected 1 (an oracle failed)"

"$x" replay "$work/f.replay.json" >"$work/replay.out" 2>&1
rc=$?; tail -n 3 "$work/replay.out"
[ "$rc" -eq 1 ] || fail "replay exit $rc, expected 1 (the failure reproduced)"
grep -q "matches the recording" "$work/replay.out" || fail "replay: digest differs"

"$x" replay "$work/f.replay.json" --explain >"$work/explain.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "replay --explain exit $rc, expected 1"
grep -q "^handoff" "$work/explain.out" || fail "replay --explain shows no handoff"
grep -q "lost_update" "$work/explain.out" || fail "replay --explain does not name the oracle"

"$x" shrink "$work/f.replay.json" --out "$work/f.shrunk.json" >"$work/shrink.out" 2>&1
rc=$?; cat "$work/shrink.out"
[ "$rc" -eq 0 ] || fail "shrink exit $rc, expected 0"
"$x" replay "$work/f.shrunk.json" >"$work/replay2.out" 2>&1
rc=$?
[ "$rc" -eq 1 ] || fail "replay of the shrunk file exit $rc, expected 1"
grep -q "matches the recording" "$work/replay2.out" || fail "shrunk replay: digest differs"

# An input that holds converts too (exit 0) and replays clean.
printf '' >"$work/empty.input"
"$x" fuzz-replay "$scn" "$work/empty.input" >"$work/empty.out" 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "fuzz-replay of the empty input exit $rc, expected 0"
"$x" replay "$work/empty.input.replay.json" >/dev/null 2>&1
rc=$?
[ "$rc" -eq 0 ] || fail "replay of the empty input exit $rc, expected 0"
echo "convert: ok"
