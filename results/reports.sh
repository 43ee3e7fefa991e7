#!/usr/bin/env bash
# Rebuild the HTML report of each finding in results/FINDINGS.md from the stored runs.
# Usage: results/reports.sh   (after results/reproduce.sh and results/liveness.py)
set -euo pipefail
cd "$(dirname "$0")/.."
VHOSTMC=${VHOSTMC:-.venv/bin/vhostmc}
R=results/reports
mkdir -p "$R"
while read -r name run prop; do
  [ -z "$name" ] && continue
  $VHOSTMC report "results/$run" --property "$prop" -o "$R/$name.html"
done <<'LIST'
F1-put-and-wait-hang runs/all-n1 no-stuck-waiter
F2-null-ubufs runs/all-n1 memory-safe
F3-sendmsg-failure-slot-reuse runs/all-n1 no-double-use
F4-guest-stops-leak runs/all-n1 no-quiescent-leak
F5-max-pend-not-wrap-aware runs/datapath-n1 no-quiescent-leak
F6-ubuf-info-out-of-bounds runs/bigring-n2 memory-safe
F7-rogue-repost runs/rogue-n1 no-double-use
v3.1-put-and-wait-use-after-free cells/v3.1-n1-release memory-safe
L1-put-and-wait-hang-fair liveness/v9-n1-default-default put-and-wait-terminates
L2-busy-poll-while-device-holds-skb liveness/v9-n1-datapath-may-hold no-leak
L3-v3.1-release-waits-for-device liveness/v3.1-n1-release-may-hold put-and-wait-terminates
LIST
