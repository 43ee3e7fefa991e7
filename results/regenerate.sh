#!/usr/bin/env bash
# The one script that regenerates everything under results/ that is not written by hand.
#
#   results/regenerate.sh [STAGE...]      stages: runs matrix liveness reports table lifted simulated
#                                         (default: the first five, in that order)
#
# Bulk output (result.json, ITF/text traces, pictures, HTML reports) goes to
# results/generated/, which git ignores; the tables people read are rewritten in
# place: results/matrix.md, results/liveness.md, and the table printed by the
# `table` stage is the one in results/FINDINGS.md.  results/MANIFEST.md says which
# stage makes which file.  Environment: RING_SIZES (default "1 2 3"), TIME_LIMIT
# (seconds per run, default 120), JOBS (default 2), MEMORY_LIMIT (MiB per run, default
# 6000), LIVENESS_N2_LIMIT (seconds per ring-2 liveness cell, default 600), SYMMETRY_FROM (the `runs` stage adds --symmetry from this ring size on, default
# 3), LIFT_LIMIT (seconds per `lifted` run, default 900), SIMULATE_LIMIT (seconds per
# `simulated` run, default 300), SHRINK_LIMIT (seconds per shrink there, default 120),
# VHOSTMC, PYTHON.
set -uo pipefail
cd "$(dirname "$0")/.."
VHOSTMC=${VHOSTMC:-.venv/bin/vhostmc}
PYTHON=${PYTHON:-.venv/bin/python}
read -ra SIZES <<< "${RING_SIZES:-1 2 3}"
LIMIT=${TIME_LIMIT:-120}
JOBS=${JOBS:-2}
GEN=results/generated
stages=("$@"); [ ${#stages[@]} -eq 0 ] && stages=(runs matrix liveness reports table)

SAFETY=(--property no-double-use --property memory-safe --property no-stuck-waiter
        --property no-quiescent-leak)
MEMORY=${MEMORY_LIMIT:-6000}
SYMMETRY_FROM=${SYMMETRY_FROM:-3}

runs() {  # every named environment of `vhostmc list`, v9, each ring size; the four
          # invariants of the FINDINGS table (compiled explorer; liveness: `liveness` stage)
  for env in $("$PYTHON" -m checker.runs.environments --names); do
    name=$env; [ "$env" = default ] && name=all
    read -ra args <<< "$("$PYTHON" -m checker.runs.environments "$env")"
    for n in "${SIZES[@]}"; do
      out="$GEN/runs/$name-n$n"
      sym=(); [ "$n" -ge "$SYMMETRY_FROM" ] && sym=(--symmetry)
      $VHOSTMC check --ring-size "$n" "${args[@]}" "${SAFETY[@]}" "${sym[@]}" \
        --time-limit "$LIMIT" --memory-limit "$MEMORY" --out "$out" --json -q > /dev/null
      echo "$name n=$n exit=$? -> $out/result.json"
    done
  done
}

matrix() {
  envs=$("$PYTHON" -m checker.runs.environments --names | tr ' \n' ',,' | sed 's/,*$//')
  sizes=$(IFS=,; echo "${SIZES[*]}")
  $VHOSTMC matrix --revisions v9,v3.1 --ring-sizes "$sizes" --envs "$envs" \
    --time-limit "$LIMIT" --jobs "$JOBS" --out "$GEN/matrix"
  sed 's#](cells/#](generated/matrix/cells/#g' "$GEN/matrix/matrix.md" > results/matrix.md
}

liveness() {  # the liveness grid: v9 and v3.1, every named environment x the four
              # fairness presets of checker/runs/fairness.py; the two liveness properties
              # next to their state-predicate forms; at ring size 1, then ring size 2
  envs=$("$PYTHON" -m checker.runs.environments --names | tr ' \n' ',,' | sed 's/,*$//')
  for n in 1 2; do
    out=liveness; [ "$n" -gt 1 ] && out=liveness-n$n
    limit=$LIMIT; [ "$n" -gt 1 ] && limit=${LIVENESS_N2_LIMIT:-600}
    $VHOSTMC matrix --revisions v9,v3.1 --ring-sizes "$n" --envs "$envs" \
      --fairness default,may-hold,keeps-posting,goes-idle \
      --property no-leak --property no-quiescent-leak \
      --property put-and-wait-terminates --property no-stuck-waiter \
      --time-limit "$limit" --memory-limit "$MEMORY" --jobs "$JOBS" --out "$GEN/$out"
    sed "s#](cells/#](generated/$out/cells/#g" "$GEN/$out/matrix.md" > "results/$out.md"
  done
}

reports() {  # the HTML report of each finding of results/FINDINGS.md
  mkdir -p "$GEN/reports"
  while read -r name run prop; do
    [ -z "$name" ] && continue
    $VHOSTMC report "$GEN/$run" --property "$prop" -o "$GEN/reports/$name.html"
  done <<'LIST'
F1-put-and-wait-hang runs/all-n1 no-stuck-waiter
F2-null-ubufs runs/all-n1 memory-safe
F4-guest-stops-leak runs/all-n1 no-quiescent-leak
F5-max-pend-not-wrap-aware runs/datapath-n1 no-quiescent-leak
F6-ubuf-info-out-of-bounds runs/bigring-n2 memory-safe
F7-rogue-repost runs/rogue-n1 no-double-use
v3.1-put-and-wait-use-after-free matrix/cells/v3.1-n1-release memory-safe
L1-put-and-wait-hang-fair liveness/cells/v9-n1-default-default put-and-wait-terminates
L2-busy-poll-while-device-holds-skb liveness/cells/v9-n1-datapath-may-hold no-leak
L3-v3.1-release-waits-for-device liveness/cells/v3.1-n1-release-may-hold put-and-wait-terminates
LIST
}

table() { "$PYTHON" results/summarize.py; }

lifted() {  # v9 and v3.1 at ring size 256 with the kernel's constants, every named
            # environment: the explicit engine's ring-2 counterexamples fired again there
            # (bmc --lift-from 2); results/lifted.py writes results/lifted.md
  for rev in v9 v3.1; do
    for env in $("$PYTHON" -m checker.runs.environments --names); do
      read -ra args <<< "$("$PYTHON" -m checker.runs.environments "$env")"
      out="$GEN/lifted/$rev-$env"
      $VHOSTMC check --engine bmc --lift-from 2 --revision "$rev" --ring-size 256 \
        --uio-maxiov 1024 --max-pend 128 "${args[@]}" --depth 1 \
        --time-limit "${LIFT_LIMIT:-900}" --pictures none --out "$out" --json -q > /dev/null
      echo "$rev $env exit=$? -> $out/result.json"
    done
  done
  "$PYTHON" results/lifted.py
}

simulated() {  # v9 and v3.1 at ring size 256 with the kernel's constants, every named
               # environment: random walks (--engine simulate), each violation then shrunk;
               # results/simulated.py writes results/simulated.md
  for rev in v9 v3.1; do
    for env in $("$PYTHON" -m checker.runs.environments --names); do
      read -ra args <<< "$("$PYTHON" -m checker.runs.environments "$env")"
      out="$GEN/simulated/$rev-$env"
      $VHOSTMC check --engine simulate --revision "$rev" --ring-size 256 \
        --uio-maxiov 1024 --max-pend 128 "${args[@]}" --walks 10 --depth 2000 \
        --time-limit "${SIMULATE_LIMIT:-300}" --pictures none --out "$out" --json -q > /dev/null
      echo "$rev $env exit=$? -> $out/result.json"
      for itf in "$out"/*.itf.json; do
        case $itf in *.shrunk.itf.json|"$out/*.itf.json") continue ;; esac
        # a walk of thousands of steps can take longer to shrink than to find
        timeout "${SHRINK_LIMIT:-120}" $VHOSTMC shrink "$itf" > /dev/null 2>&1 \
          || echo "not shrunk within ${SHRINK_LIMIT:-120}s (or failed): $itf"
      done
    done
  done
  "$PYTHON" results/simulated.py
}

for stage in "${stages[@]}"; do
  case $stage in
    runs|matrix|liveness|reports|table|lifted|simulated) "$stage" ;;
    *) echo "results/regenerate.sh: unknown stage '$stage' (runs matrix liveness reports table lifted simulated)" >&2
       exit 2 ;;
  esac
done
