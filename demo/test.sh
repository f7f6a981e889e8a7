#!/usr/bin/env bash
# Runs the cross-language demo (demo/run.sh: set-up from a fresh machine, then demo.py) and checks
# its exit status and the lines that show each step happened. Last line: `demo: N passed, M failed`.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT

start=$(date +%s)
timeout -k 5 "${DEMO_TEST_TIMEOUT:-900}" "$HERE/run.sh" >"$out" 2>&1
status=$?
elapsed=$(( $(date +%s) - start ))
cat "$out"

problems=()
[ "$status" -eq 0 ] || problems+=("run.sh exited with status $status")
expect() { grep -Eq -- "$1" "$out" || problems+=("missing line: /$1/"); }
expect 'P1 +send -> node: .*HELD \(peer not connected\)\); session INITIATING'
expect 'node +\| LISTENING [0-9]+$'
expect 'P1 +delivered 2 held envelope\(s\) to node'
expect 'node +\| SESSION [0-9a-f]{32} ACTIVE$'
expect "node +\| RECV [0-9a-f]{32} hello node, written while you were offline$"
expect "P1 +recv <- node: 'hi P1, this is the Zig node'; session ACTIVE"
expect 'node +\| REFUSED [0-9]+ [0-9a-f]{32} UnknownSender'
expect 'node +\| GROUP-ADDED [0-9a-f]{64} [0-9a-f]{32}$'
expect "P2 +group [0-9a-f]{8} <- P1: 'group message 2 from P1'"
expect "P1 +group [0-9a-f]{8} <- P2: 'group message 2 from P2'"
expect "P1 +group [0-9a-f]{8} <- node: 'group message 2 from node'"
expect "P2 +group [0-9a-f]{8} <- node: 'group message 2 from node'"
expect "node +\| GROUP [0-9a-f]{64} [0-9a-f]{32} group message 2 from P2$"
expect '^  node +sent 5, received 6, group sent 2, group received 4; sessions: P1 ACTIVE ONLINE, P2 ACTIVE ONLINE$'
expect 'node +exited 0$'
expect '^DEMO OK in '

echo "demo: ${elapsed}s" >&2
if [ "${#problems[@]}" -eq 0 ]; then
    echo "demo: 1 passed, 0 failed"
    exit 0
fi
printf 'demo: FAILED: %s\n' "${problems[@]}" >&2
echo "demo: 0 passed, 1 failed"
exit 1
