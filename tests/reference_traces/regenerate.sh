#!/usr/bin/env bash
# Regenerate the curated reference traces in this folder: one per finding of
# results/FINDINGS.md, each the shortest (BFS) counterexample of one check.
# tests/test_findings.py replays every one.  Never edit a trace by hand: rerun this.
# Usage: tests/reference_traces/regenerate.sh   (from anywhere; needs .venv)
set -euo pipefail
cd "$(dirname "$0")/../.."
VHOSTMC=${VHOSTMC:-.venv/bin/vhostmc}
PYTHON=${PYTHON:-.venv/bin/python}
dest=tests/reference_traces
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# name  revision  ring  environment  property  extra switches
while read -r name rev n env prop extra; do
  [ -z "$name" ] && continue
  read -ra args <<< "$("$PYTHON" -m checker.runs.environments "$env") $extra"
  $VHOSTMC check --revision "$rev" --ring-size "$n" "${args[@]}" --property "$prop" \
    --pictures none --out "$tmp/$name" -q > /dev/null || true
  cp "$tmp/$name/$rev-n$n-$prop.itf.json" "$dest/$name.itf.json"
  echo "$dest/$name.itf.json"
done <<'LIST'
F1-put-and-wait-hang v9 1 default no-stuck-waiter
F2-null-ubufs v9 1 default memory-safe
F4-guest-stops-leak v9 2 datapath no-quiescent-leak
F5-max-pend-not-wrap-aware v9 1 datapath no-quiescent-leak
F6-ubuf-info-out-of-bounds v9 2 bigring memory-safe
F7-rogue-repost v9 1 rogue no-double-use
v3.1-put-and-wait-use-after-free v3.1 1 release memory-safe
L1-put-and-wait-hang-fair v9 1 default put-and-wait-terminates
L2-busy-poll-while-device-holds-skb v9 1 datapath no-leak --device-progress may-hold
L3-v3.1-release-waits-for-device v3.1 1 release put-and-wait-terminates --device-progress may-hold
LIST
