#!/usr/bin/env bash
# The training-length grid of docs/RESULTS.md ("Training length"): each data size trained with the
# old fixed 24 passes and with step floors of 3000, 6000 and 12000 (the default) steps, seed 7 (12000
# on the sizes named in LONG, all by default). raw also has 12960 (24 epochs of 10 passes: where the
# default's rounding to whole passes gives 23): `inkcast train sketch ../shared/data/quickdraw-raw/simplified
# --min-steps 12960 --out runs/sched/raw-12960`.
# Run from the repository root; `python -m experiments.schedule_table runs/sched` prints the table.
set -euo pipefail
out=${1:-runs/sched}
q=../shared/data/quickdraw
raw=../shared/data/quickdraw-raw/simplified
long=${LONG:-" raw q250 q100 q1000 "}
for size in raw:$raw: q250:$q:250 q100:$q:100 q1000:$q:1000; do
  IFS=: read -r name data max <<<"$size"
  for s in e24 3000 6000 12000; do
    [ "$s" = 12000 ] && [[ "$long" != *" $name "* ]] && continue
    run=$out/$name-$s
    [ -f "$run/metrics.json" ] && continue
    if [ "$s" = e24 ]; then length=(--epochs 24); else length=(--min-steps "$s"); fi
    inkcast train sketch "$data" ${max:+--max-per-category "$max"} "${length[@]}" --out "$run"
  done
done
