#!/usr/bin/env bash
# The GPU check of issue 9, in one script: on a GPU machine it runs in at most 8 minutes and
# prints the figures that matter:
#   1. the paper-1 pages (Noh & Lim) at 224 px on CUDA, synthetic data (`emo-book run`),
#   2. one EfficientNet-B0 fold at 224 px through the training-unit path (fold_timing.py),
#   3. the LIME benchmark at 224 px / 1000 samples on CUDA against stock lime (goal >= 20x),
#   4. the training throughput: model-alone rates of every paper-2 model (a rates file for
#      `emo-book plan`), B0's full data path, and its ratio to B0 alone (goal >= 0.8),
#   5. `emo-book plan --profile paper` with those rates (GPU hours of the paper grid).
# Every step has its own time limit; a step that fails or runs out is reported and the next
# one runs. A summary table ends the output.
#
# Usage, from the repository root:
#   benchmarks/gpu_check.sh                 # the GPU machine (CUDA)
#   benchmarks/gpu_check.sh --cpu --quick   # the same steps, tiny, on the CPU (< 2 minutes)
#   OUT=/some/dir benchmarks/gpu_check.sh   # keep logs, rates.json and executed pages there
#
# What it expects (it installs nothing and reaches no network; the GPU machine is offline):
#   - .venv/ at the repository root (or PYTHON=/path/to/python) holding the locked
#     requirements (requirements-lock.txt, torch with CUDA) and emo-lib itself (pip install
#     --no-deps -e .), e.g. rebuilt there from wheels carried along:
#       python3 -m venv .venv && .venv/bin/pip install --no-index --find-links WHEELS \
#         -r requirements-lock.txt && .venv/bin/pip install --no-index --no-deps -e .
#   - ipykernel in that venv (the `emo-lib` kernel is registered into it on first use);
#   - coreutils `timeout`; nvidia-smi is optional.
# It needs no data set, no ImageNet weights (pretrained stays off) and no HSEmotion model
# (the pages use the synthetic stand-in); caches go to a fresh $EMO_CACHE under $OUT.
set -u

MODE=gpu
QUICK=0
for arg in "$@"; do
  case "$arg" in
    --cpu) MODE=cpu ;;
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "unknown argument $arg (use --cpu, --quick)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.." || exit 2
PY=${PYTHON:-.venv/bin/python}
if ! [ -x "$PY" ]; then
  echo "no python at $PY: build .venv first (see the header of $0) or set PYTHON" >&2
  exit 2
fi
OUT=${OUT:-$(mktemp -d -t emo-gpu-check.XXXXXX)}
mkdir -p "$OUT"
export EMO_CACHE="$OUT/cache"
export TQDM_DISABLE=1 HF_HUB_OFFLINE=1 PYTHONUNBUFFERED=1
export MPLBACKEND=Agg

if [ "$MODE" = gpu ]; then
  DEVICE=cuda; SIZE=224
  PAGES="noh2023_age_accuracy noh2023_gender_accuracy noh2023_lime_age noh2023_lime_gender noh2023_additional_training"
  PAGE_ARGS=(-p image_size 224 -p device cuda)
  PAGE_LIMITS=(60 30 45 40 35)   # with the limits below: at most 450 s of steps
  FOLD_ARGS=(--scale 0.1 --epochs 5 --batch-size 128); FOLD_LIMIT=60
  LIME_ARGS=(--size 224 --num-samples 1000 --images 2); LIME_LIMIT=50
  TP_ARGS=(--size 224 --batch-size 128 --images 4096 --epochs 3 --steps 20 --warmup 8); TP_LIMIT=100
  RATE_MODELS="efficientnet_b0 efficientnet_b1 efficientnet_b2 efficientnet_b3 efficientnet_b4 efficientnet_b5 resnet50 vgg16"
  PLAN_PROFILE=paper; PLAN_LIMIT=30
else
  DEVICE=cpu
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
  if [ "$QUICK" = 1 ]; then
    SIZE=32
    PAGES="noh2023_age_accuracy"
    PAGE_ARGS=(-p image_size 32 -p device cpu -p model_options "{size: 32, n: 140, epochs: 1}")
    PAGE_LIMITS=(60)
    FOLD_ARGS=(--scale 0.02 --folds 2 --epochs 1 --batch-size 32); FOLD_LIMIT=40
    LIME_ARGS=(--size 32 --num-samples 40 --images 1); LIME_LIMIT=40
    TP_ARGS=(--size 32 --batch-size 16 --images 48 --epochs 2 --steps 2 --warmup 1); TP_LIMIT=40
    RATE_MODELS="efficientnet_b0"
    PLAN_PROFILE=smoke; PLAN_LIMIT=40
  else
    SIZE=64
    PAGES="noh2023_age_accuracy noh2023_gender_accuracy noh2023_lime_age noh2023_lime_gender noh2023_additional_training"
    PAGE_ARGS=(-p image_size 64 -p device cpu)
    PAGE_LIMITS=(300 200 300 300 300)
    FOLD_ARGS=(--scale 0.02 --epochs 2 --batch-size 32); FOLD_LIMIT=300
    LIME_ARGS=(--size 64 --num-samples 150 --images 2); LIME_LIMIT=300
    TP_ARGS=(--size 64 --batch-size 32 --images 256 --epochs 2 --steps 6); TP_LIMIT=400
    RATE_MODELS="efficientnet_b0 resnet50"
    PLAN_PROFILE=paper; PLAN_LIMIT=200
  fi
fi

SUMMARY=()
START=$(date +%s)

# step NAME LIMIT_S CMD...: run with a time limit, log to $OUT/NAME.log and the console.
step() {
  local name=$1 limit=$2; shift 2
  local t0 rc
  echo
  echo "=== $name (limit ${limit} s; $(($(date +%s) - START)) s elapsed) ==="
  echo "\$ $*"
  t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  grep -v -E '^\s*$' "$OUT/$name.log" | tail -n 25
  local status=ok
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then status="timeout"; elif [ $rc -ne 0 ]; then status="failed ($rc)"; fi
  SUMMARY+=("$(printf '%-34s %-12s %5d s' "$name" "$status" $(($(date +%s) - t0)))")
}

echo "emo-book GPU check: mode $MODE$([ "$QUICK" = 1 ] && echo ' (quick)'), device $DEVICE, size $SIZE px, output in $OUT"
if command -v nvidia-smi > /dev/null; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; fi
"$PY" - <<'EOF'
import platform, torch, torchvision
print(f"python {platform.python_version()}, torch {torch.__version__}, torchvision {torchvision.__version__}, "
      f"cuda available: {torch.cuda.is_available()}"
      + (f" ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else ""))
EOF
if [ "$DEVICE" = cuda ] && ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "CUDA is not available to torch: this is the GPU check; use --cpu on a machine without one" >&2
  exit 1
fi

i=0
for page in $PAGES; do
  step "page_$page" "${PAGE_LIMITS[$i]}" "$PY" -m emo_lib run "$page" "${PAGE_ARGS[@]}" \
    --out "$OUT/pages/$page" --quiet
  i=$((i + 1))
done
step "fold_${SIZE}px" "$FOLD_LIMIT" "$PY" benchmarks/fold_timing.py --device "$DEVICE" \
  --size "$SIZE" "${FOLD_ARGS[@]}"
step "lime_${SIZE}px" "$LIME_LIMIT" "$PY" benchmarks/lime_benchmark.py --device "$DEVICE" \
  "${LIME_ARGS[@]}"
# model-alone rates of every model listed (B0 first: the ratio's reference), then B0's full path
# shellcheck disable=SC2086
step "throughput_${SIZE}px" "$TP_LIMIT" "$PY" benchmarks/train_throughput.py --device "$DEVICE" \
  "${TP_ARGS[@]}" --models $RATE_MODELS --rates-json "$OUT/rates.json"
PLAN_RATES=()
[ -s "$OUT/rates.json" ] && PLAN_RATES=(--rates "$OUT/rates.json")
step "plan_$PLAN_PROFILE" "$PLAN_LIMIT" "$PY" -m emo_lib plan --profile "$PLAN_PROFILE" "${PLAN_RATES[@]}"

echo
echo "=== summary ($(($(date +%s) - START)) s in all; logs in $OUT) ==="
printf '%s\n' "${SUMMARY[@]}"
echo "--- figures ---"
for page in $PAGES; do
  grep -h -E "^$page.* ok " "$OUT/page_$page.log" 2>/dev/null | head -n 1
done
grep -h -E "steady training rate|epoch seconds|peak GPU memory" "$OUT/fold_${SIZE}px.log" 2>/dev/null
grep -h -E "stock lime|explain_batch|speed-up" "$OUT/lime_${SIZE}px.log" 2>/dev/null
grep -h -E "model alone|full path|ratio" "$OUT/throughput_${SIZE}px.log" 2>/dev/null
grep -h -E "^ *jeong2021_[a-z_]+ +[0-9]|^total" "$OUT/plan_$PLAN_PROFILE.log" 2>/dev/null
