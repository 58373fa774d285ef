#!/usr/bin/env bash
# Full-size training on a lent GPU machine, in calls of at most 10 minutes each:
#   training/gpu_session.sh start MINUTES   start `latexsnip train` detached (setsid), return
#   training/gpu_session.sh watch SECONDS   wait (or until training ends), export weights to $OUT
#   training/gpu_session.sh finish          wait for the end, evaluate on the test split, export
#   training/gpu_session.sh run MINUTES     start + watch in ONE call (the safe way when device time
#                                           is short: no machine idles between calls)
# Fine-tune the shipped weights: EXTRA="--init resources/weights/default.safetensors --lr 2.5e-4 ..."
# (later arguments win).
# To fine-tune weights that are not tracked (e.g. a soup made after a first call) without spending
# transfer bytes on them, copy them over resources/weights/default.safetensors for the call (the
# working tree travels, not the commit) and `git checkout resources/weights/default.safetensors` after.
# The data pack ($DATA, default data/pack) travels with the working tree (as a `carry` path) and
# shares the 64 MiB transfer with the tracked files (52.2 MB, 50.6 MB of it the shipped weights):
# keep it (with $TEST, below) under ~13 MB (`python -m training.font_mix ... --base-limit K`; snips drawn by PDF
# viewers: `python -m training.font_mix --pack data/trainpack --out data/gpuview --n 3500 --base same --seed 29
# --variants poppler-100,mupdf-100,poppler-150`, 12.4 MB; web snips: `--out data/gpuweb --n 3500 --base same
# --seed 46 --variants mathjax-100,mathjax-150,poppler-100`, 12 MB); the test split is read from $TEST (default $DATA).
# Weights come back in 15 MB parts (w.part.*) to respect the transfer limit: `cat w.part.* > w.safetensors`
# (with LAST=1, `run` also sends the last weights as l.part.*, e.g. for `python -m training.average`); WATCH=SECONDS sets how long `run` waits.
set -u
RUN=${RUN:-/root/latexsnip-run}
DATA=${DATA:-data/pack}
TEST=${TEST:-$DATA}
OUT=${OUT:-/tmp/out}
export PYTHONUNBUFFERED=1
export_parts() {  # export_parts best|last [PREFIX]: PREFIX.part.* in $OUT (default w)
  local p=${2:-w}
  python3 -m core.cli export "$RUN" --out "$RUN/$p.safetensors" --dtype fp16 --which "${1:-best}" || return
  rm -f "$OUT/$p".part.*
  split -b 15000000 "$RUN/$p.safetensors" "$OUT/$p.part."
  cp "$RUN/log.jsonl" "$OUT/" 2>/dev/null
  grep val_bleu "$RUN/log.jsonl" | tail -3
}
case "${1:-}" in
start)
  mkdir -p "$RUN"
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
  setsid nohup python3 -m core.cli train --data "$DATA" --out "$RUN" --device cuda --batch-size 512 \
    --workers 15 --lr 1e-3 --warmup-steps 300 --max-minutes "${2:-20}" --val-every 500 --val-size 1000 \
    --ckpt-minutes 3 ${EXTRA:-} >"$RUN/train.out" 2>&1 </dev/null &
  sleep "${3:-60}"
  tail -5 "$RUN/train.out"
  ;;
watch)
  end=$((SECONDS + ${2:-500}))
  while [ $SECONDS -lt $end ] && pgrep -f "core.cli train" >/dev/null; do sleep 5; done
  tail -4 "$RUN/train.out"
  export_parts best
  ;;
finish)
  while pgrep -f "core.cli train" >/dev/null; do sleep 5; done
  tail -6 "$RUN/train.out"
  export_parts best
  cp "$RUN/curves.png" "$RUN/train.out" "$OUT/" 2>/dev/null
  python3 -m core.cli eval --weights "$RUN/w.safetensors" --data "$TEST" --split test --beam 1 \
    --batch 256 --device cuda --json | tee "$OUT/eval_test_greedy.json"
  python3 -m core.cli eval --weights "$RUN/w.safetensors" --data "$TEST" --split test --beam 5 \
    --batch 128 --device cuda --json | tee "$OUT/eval_test_beam5.json"
  ;;
run)
  M=${2:-6}
  "$0" start "$M" 0 && "$0" watch "${WATCH:-$(( ${M%.*} * 60 + 120 ))}"
  [ -n "${LAST:-}" ] && export_parts last l   # LAST=1: the last weights too, as l.part.*
  cp "$RUN/train.out" "$OUT/" 2>/dev/null
  ;;
*) echo "usage: $0 start MINUTES | watch SECONDS | finish | run MINUTES" >&2; exit 2 ;;
esac
