#!/usr/bin/env bash
# Re-run every configuration behind results/FINDINGS.md.
# Usage: results/reproduce.sh [RING_SIZES...]   (default: 1 2 3)
# Each run writes its traces and result.json to results/runs/<config>-n<N>/.
# The configurations are the named environments of checker/environments.py
# (`vhostmc list` shows them); the `default` environment's folder is `all`.
set -uo pipefail
cd "$(dirname "$0")/.."
VHOSTMC=${VHOSTMC:-.venv/bin/vhostmc}
PYTHON=${PYTHON:-.venv/bin/python}
sizes=("$@"); [ ${#sizes[@]} -eq 0 ] && sizes=(1 2 3)

for env in $("$PYTHON" -m checker.environments --names); do
  name=$env; [ "$env" = default ] && name=all
  read -ra args <<< "$("$PYTHON" -m checker.environments "$env")"
  for n in "${sizes[@]}"; do
    out="results/runs/$name-n$n"
    $VHOSTMC check --ring-size "$n" "${args[@]}" --time-limit "${TIME_LIMIT:-120}" \
      --out "$out" --json -q > /dev/null
    echo "$name n=$n exit=$? -> $out/result.json"
  done
done
