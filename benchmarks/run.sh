#!/usr/bin/env bash
# Refresh every benchmark and rewrite benchmarks/RESULTS.md. Takes ~30-40 min on a 2-core x86 box
# (the 10,000-frame soak is most of it). Usage:  bash benchmarks/run.sh
# Environment: RUN (default runs/final), INT8 (default fer_edge/models/fer_int8.tflite), DATA (default the shared
# FER2013), SOAK_FRAMES (10000), PY (.venv/bin/python), SKIP_SETUP=1 (don't create the peer venvs),
# QUICK=1 (short timings, 500-frame soak: a smoke run, not for RESULTS.md), SOAK=0 (keep the last soak.json),
# NOTE="..." (a line shown at the top of RESULTS.md).
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
RUN="${RUN:-runs/final}"
INT8="${INT8:-fer_edge/models/fer_int8.tflite}"
DATA="${DATA:-../shared/data/fer2013}"
OUT=benchmarks/results
SOAK_FRAMES="${SOAK_FRAMES:-10000}"
MAXT=1.0; PEER_T=2.0; NOTE="${NOTE:-}"
if [ "${QUICK:-0}" = "1" ]; then MAXT=0.2; PEER_T=0.3; SOAK_FRAMES=500; NOTE="QUICK smoke run (short timings, 500-frame soak). $NOTE"; fi
mkdir -p "$OUT"
export TF_CPP_MIN_LOG_LEVEL=2 TF_USE_LEGACY_KERAS=1
export FER_BENCH_RUN="$RUN" FER_BENCH_INT8="$INT8"
status=0

if [ "${SKIP_SETUP:-0}" != "1" ]; then
  [ -x .venv-fer/bin/python ] || bash benchmarks/setup_fer_env.sh || echo "fer venv setup failed: fer side skipped"
  [ -x .venv-tflrt/bin/python ] || bash benchmarks/setup_tflite_runtime_env.sh || echo "tflite-runtime venv failed"
fi

echo "== latency (pytest-benchmark)"
"$PY" -m pytest benchmarks/ -p no:cacheprovider -q -rs -W ignore::UserWarning \
  --benchmark-json="$OUT/bench.json" --benchmark-max-time="$MAXT" --benchmark-min-rounds=5 \
  --benchmark-warmup=on --benchmark-columns=median,iqr,rounds --benchmark-sort=name || status=1
# keep the committed JSON small: drop the per-round samples, keep the statistics
"$PY" -c "import json,sys; p=sys.argv[1]; d=json.load(open(p)); [b['stats'].pop('data', None) for b in d['benchmarks']]; json.dump(d, open(p,'w'), indent=1)" "$OUT/bench.json" || true

echo "== peers in their own venvs (fer, tflite-runtime)"
"$PY" -m benchmarks.peers --out-dir "$OUT" --max-time "$PEER_T" || status=1

echo "== accuracy: int8 (fer_edge) vs float (Keras) vs fer"
"$PY" -m benchmarks.accuracy --data "$DATA" --run "$RUN" --int8 "$INT8" --out-dir "$OUT" \
  --name accuracy_fer2013_publictest || status=1

if [ "${SOAK:-1}" = "1" ]; then
  echo "== soak: $SOAK_FRAMES frames through fer-edge-run"
  "$PY" -m benchmarks.soak --frames "$SOAK_FRAMES" --out "$OUT/soak.json" || status=1
else
  echo "== soak skipped (SOAK=0): the report reuses $OUT/soak.json, whose command line names its model"
fi

echo "== report"
"$PY" -m benchmarks.report "$OUT/bench.json" --fer "$OUT/fer_latency.json" --tflrt "$OUT/tflrt.json" --compare "$OUT/fer_compare.json" \
  --accuracy "$OUT/accuracy_fer2013_publictest.json" --soak "$OUT/soak.json" ${NOTE:+--note "$NOTE"} -o benchmarks/RESULTS.md || status=1
echo "done (status $status): benchmarks/RESULTS.md, $OUT/"
exit $status
