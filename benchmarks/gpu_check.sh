#!/usr/bin/env bash
# The GPU check (issues 9 and 20), one script: on a GPU machine its step limits add up to under
# 10 minutes (one device command), and it prints the figures that matter:
#   1. the LIME-age page of paper 1 on CUDA (`emo-book run`, synthetic data): faces drawn at
#      224 px, the stand-in (its 64-px input: the smoke book's model) trained and evaluated on
#      the GPU, LIME's perturbed images built there;
#   2. one EfficientNet-B0 fold at 224 px through the training-unit path (fold_timing.py):
#      its data path, epoch seconds, peak GPU memory, and the same fold trained twice
#      (determinism: identical logits or not);
#   3. LIME on 224-px faces with 1000 samples explaining the trained stand-in, against stock
#      lime (goal >= 20x on a GPU);
#   4. training throughput at 224 px: model-alone rates of the paper-2 models (a rates file for
#      `emo-book plan`), B0's full data path and its ratio to B0 alone (goal >= 0.8), and B0
#      alone without determinism (what determinism costs);
#   5. `emo-book plan --profile paper` with those rates (GPU hours of the paper grid).
# Each step has its own time limit; a step that fails or runs out is reported and the next one
# runs. A summary ends the output: every step's status, seconds and figure.
#
# Usage, from anywhere:
#   benchmarks/gpu_check.sh                   # a GPU machine (CUDA)
#   benchmarks/gpu_check.sh --cpu --quick     # the same steps, tiny, on the CPU (~4 minutes
#                                             # on 2 busy cores)
#   PYTHON=python3 benchmarks/gpu_check.sh    # another interpreter (default: .venv/bin/python
#                                             # if the repository has one, else python3)
#   OUT=/some/dir benchmarks/gpu_check.sh     # keep logs, rates.json and executed pages there
#   ONLY=fold,lime benchmarks/gpu_check.sh    # only these steps (pages, fold, lime,
#                                             # throughput, plan)
#
# What it needs: an interpreter with torch (CUDA build on a GPU machine) and the scientific
# stack. The repository itself is put on PYTHONPATH: nothing is installed, no .venv is needed.
# It first lists which packages are missing and skips the steps that need them, saying so.
# What an offline GPU image typically lacks (papermill and its kernel stack, lime, which PyPI
# has only as a source archive, facenet-pytorch, submitit) is one small folder of wheels built
# on a connected machine with `make gpu-wheels` (benchmarks/gpu_wheels.sh), then installed on
# the node with
#   python3 -m pip install --user --no-index --find-links gpu-wheels papermill ipykernel nbconvert submitit
#   python3 -m pip install --user --no-index --no-deps --find-links gpu-wheels lime facenet-pytorch
# Nothing here downloads: no data set, ImageNet weight or HSEmotion model is used (pretrained
# stays off, `plan` runs with -p weights=random, pages use the synthetic stand-in), and every
# HTTP(S) request fails at once (the proxy variables point at a closed local port), so an
# offline node cannot hang on one. Caches go to a fresh $EMO_CACHE under $OUT; the Jupyter
# kernel is registered under $OUT.
#
# Step limits (GPU mode) come from what could be measured without a GPU, with a margin of about
# 2: on this project's 2-core machine, drawing a synthetic face at 224 px takes 16-56 ms and
# its crop 24 ms; the stand-in's 3500 faces at 64 px 31 s; `plan --profile paper` 13 s of CPU.
# The GPU work itself could not be measured (no GPU was lent): its allowance is an estimate,
# which the first GPU run confirms (each step prints its own seconds).
set -u

MODE=gpu
QUICK=0
for arg in "$@"; do
  case "$arg" in
    --cpu) MODE=cpu ;;
    --quick) QUICK=1 ;;
    -h|--help) sed -n '2,/^set -u$/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument $arg (use --cpu, --quick)" >&2; exit 2 ;;
  esac
done

REPO=$(cd "$(dirname "$0")/.." && pwd)
cd "$REPO" || exit 2
if [ -n "${PYTHON:-}" ]; then PY=$PYTHON
elif [ -x .venv/bin/python ]; then PY=.venv/bin/python
else PY=python3; fi
if ! command -v "$PY" > /dev/null; then
  echo "no python at $PY: set PYTHON to an interpreter that has torch" >&2
  exit 2
fi
# The repository's emo_lib wins over any installed copy; kernels papermill starts inherit it.
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
OUT=${OUT:-$(mktemp -d -t emo-gpu-check.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export EMO_CACHE="$OUT/cache" EMO_OFFLINE=1 HF_HUB_OFFLINE=1 TORCH_HOME="$OUT/torch-home"
export TQDM_DISABLE=1 PYTHONUNBUFFERED=1 MPLBACKEND=Agg
export http_proxy=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9
export HTTP_PROXY=$http_proxy HTTPS_PROXY=$https_proxy
unset no_proxy NO_PROXY
# The notebooks' kernel: this interpreter, registered under $OUT (found first), never a kernel
# of the same name that points at another Python.
export JUPYTER_DATA_DIR="$OUT/jupyter" JUPYTER_PATH="$OUT/jupyter-prefix/share/jupyter"

if [ "$MODE" = gpu ]; then
  DEVICE=cuda; SIZE=224
  PAGES="noh2023_lime_age"
  PAGE_ARGS=(-p image_size=224 -p device=cuda)
  PAGE_LIMITS=(200)
  FOLD_ARGS=(--scale 0.05 --epochs 3 --batch-size 128 --twice); FOLD_LIMIT=100
  LIME_ARGS=(--size 224 --num-samples 1000 --images 2); LIME_LIMIT=80
  TP_ARGS=(--size 224 --batch-size 128 --images 2048 --epochs 3 --steps 20 --warmup 8); TP_LIMIT=80
  TP_ND_LIMIT=40
  RATE_MODELS="efficientnet_b0 efficientnet_b5 resnet50 vgg16"
  PLAN_ARGS=(--profile paper -p weights=random); PLAN_LIMIT=45
else
  DEVICE=cpu
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
  if [ "$QUICK" = 1 ]; then
    SIZE=32
    PAGES="noh2023_age_accuracy"
    PAGE_ARGS=(-p image_size=32 -p device=cpu -p "model_options={size: 32, n: 140, epochs: 1}")
    PAGE_LIMITS=(150)
    FOLD_ARGS=(--scale 0.02 --folds 2 --epochs 1 --batch-size 32 --twice); FOLD_LIMIT=150
    LIME_ARGS=(--size 32 --num-samples 40 --images 1 --standin-size 32 --standin-n 1400
               --standin-epochs 4); LIME_LIMIT=120
    TP_ARGS=(--size 32 --batch-size 16 --images 48 --epochs 2 --steps 2 --warmup 1); TP_LIMIT=90
    RATE_MODELS="efficientnet_b0"
    PLAN_ARGS=(--profile smoke); PLAN_LIMIT=60
  else
    SIZE=64
    PAGES="noh2023_age_accuracy noh2023_lime_age"
    PAGE_ARGS=(-p image_size=64 -p device=cpu)
    PAGE_LIMITS=(600 900)
    FOLD_ARGS=(--scale 0.02 --epochs 2 --batch-size 32 --twice); FOLD_LIMIT=400
    LIME_ARGS=(--size 64 --num-samples 150 --images 2); LIME_LIMIT=400
    TP_ARGS=(--size 64 --batch-size 32 --images 256 --epochs 2 --steps 6); TP_LIMIT=400
    RATE_MODELS="efficientnet_b0 resnet50"
    PLAN_ARGS=(--profile paper -p weights=random); PLAN_LIMIT=200
  fi
fi

STEPS=()        # name|status|seconds|figure, in order
# wanted STEP: true when ONLY is unset or names STEP
wanted() { [ -z "${ONLY:-}" ] || [[ ",$ONLY," == *",$1,"* ]]; }
START=$(date +%s)

# step NAME LIMIT_S CMD...: run with a time limit, log to $OUT/NAME.log and the console.
step() {
  local name=$1 limit=$2; shift 2
  local t0 rc status
  echo
  echo "=== $name (limit ${limit} s; $(($(date +%s) - START)) s elapsed) ==="
  echo "\$ $*"
  t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" > "$OUT/$name.log" 2>&1
  rc=$?
  grep -v -E '^\s*$' "$OUT/$name.log" | tail -n 25
  status=ok
  if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then status="timeout"; elif [ $rc -ne 0 ]; then status="failed ($rc)"; fi
  LAST_STATUS=$status
  STEPS+=("$name|$status|$(($(date +%s) - t0))|")
}

# skip NAME REASON: a step that cannot run here.
skip() {
  echo
  echo "=== $1: skipped ($2) ==="
  STEPS+=("$1|skipped|0|$2")
}

# figure NAME PATTERN...: the first line of NAME's log matching each PATTERN, for the summary.
figure() {
  local name=$1 line found=""; shift
  for pattern in "$@"; do
    line=$(grep -h -m 1 -E "$pattern" "$OUT/$name.log" 2>/dev/null | sed -e 's/^ *//')
    [ -n "$line" ] && found="${found:+$found; }$line"
  done
  FIGURES+=("$name|${found:-no figure in the log: see $OUT/$name.log}")
}
FIGURES=()

echo "emo-book GPU check: mode $MODE$([ "$QUICK" = 1 ] && echo ' (quick)'), device $DEVICE, size $SIZE px, python $PY, output in $OUT"
if command -v nvidia-smi > /dev/null; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader; fi

# What this interpreter lacks, and which steps that rules out (a step line per need).
"$PY" - "$MODE" > "$OUT/preflight.txt" <<'EOF'
import importlib, platform, sys

mode = sys.argv[1]
PIP = {"yaml": "pyyaml", "PIL": "pillow", "skimage": "scikit-image", "sklearn": "scikit-learn",
       "facenet_pytorch": "facenet-pytorch"}
NEEDS = {
    "pages": ["papermill", "ipykernel", "nbclient", "nbformat", "nbconvert", "jupyter_client",
              "yaml", "lime", "skimage", "sklearn", "scipy", "pandas", "matplotlib", "seaborn",
              "jinja2", "PIL", "torchvision", "emo_lib.noh2023", "emo_lib.runner"],
    "fold": ["torch", "torchvision", "sklearn", "pandas", "emo_lib.jeong2021"],
    "lime": ["lime", "skimage", "sklearn", "emo_lib.explain", "emo_lib.models.standin"],
    "throughput": ["torch", "torchvision", "PIL", "emo_lib.train"],
    "plan": ["yaml", "nbformat", "papermill", "emo_lib.runner", "emo_lib.jeong2021.plan"],
    "real data only (not run here)": ["facenet_pytorch", "submitit"],
}
missing_of = {}
for step, modules in NEEDS.items():
    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as err:
            missing.append(PIP.get((err.name or name).split(".")[0], (err.name or name).split(".")[0]))
        except Exception as err:  # present but broken: say so, do not hide it
            missing.append(f"{name} (fails to import: {type(err).__name__}: {err})")
    missing_of[step] = sorted(set(missing))
try:
    import torch
    cuda = torch.cuda.is_available()
    print(f"INFO python {platform.python_version()}, torch {torch.__version__}, cuda available: "
          f"{cuda}" + (f" ({torch.cuda.get_device_name(0)})" if cuda else ""))
    if mode == "gpu" and not cuda:
        print("FATAL CUDA is not available to torch: this is the GPU check; use --cpu on a "
              "machine without one")
except ImportError:
    print("FATAL torch is not importable with this interpreter: set PYTHON")
every = sorted({m for ms in missing_of.values() for m in ms})
print("INFO missing packages: " + (", ".join(every) if every else "none"))
for step, missing in missing_of.items():
    print(f"NEED {step}|{', '.join(missing)}")
EOF
sed -n 's/^INFO //p' "$OUT/preflight.txt"
missing_for() { sed -n "s/^NEED $1|//p" "$OUT/preflight.txt"; }
while IFS='|' read -r need list; do
  [ -n "$list" ] && echo "  step ${need#NEED }: missing $list"
done < <(grep '^NEED ' "$OUT/preflight.txt")
if grep -q '^FATAL' "$OUT/preflight.txt"; then
  sed -n 's/^FATAL /FATAL: /p' "$OUT/preflight.txt" >&2
  exit 1
fi

# 1. pages
if ! wanted pages; then :
elif [ -n "$(missing_for pages)" ]; then
  skip pages "missing $(missing_for pages)"
else
  "$PY" -m ipykernel install --prefix "$OUT/jupyter-prefix" --name emo-lib \
    --display-name "Python (emo-lib, gpu check)" > "$OUT/kernel.log" 2>&1 \
    || echo "could not register the kernel: see $OUT/kernel.log"
  i=0
  for page in $PAGES; do
    step "page_$page" "${PAGE_LIMITS[$i]}" "$PY" -m emo_lib run "$page" "${PAGE_ARGS[@]}" \
      --out "$OUT/pages/$page" --quiet
    figure "page_$page" "^$page +executed +[0-9.]+"
    i=$((i + 1))
  done
fi

# 2. one fold, twice
if ! wanted fold; then :
elif [ -n "$(missing_for fold)" ]; then skip "fold_${SIZE}px" "missing $(missing_for fold)"; else
  step "fold_${SIZE}px" "$FOLD_LIMIT" "$PY" benchmarks/fold_timing.py --device "$DEVICE" \
    --size "$SIZE" "${FOLD_ARGS[@]}"
  figure "fold_${SIZE}px" "steady training rate" "^data path" "peak GPU memory" "^determinism"
fi

# 3. LIME against stock lime, explaining the trained stand-in
if ! wanted lime; then :
elif [ -n "$(missing_for lime)" ]; then skip "lime_${SIZE}px" "missing $(missing_for lime)"; else
  step "lime_${SIZE}px" "$LIME_LIMIT" "$PY" benchmarks/lime_benchmark.py --device "$DEVICE" \
    "${LIME_ARGS[@]}"
  figure "lime_${SIZE}px" "speed-up" "largest .weight." "top-5 masks identical"
fi

# 4. throughput: model-alone rates (B0 first: the ratio's reference), B0's full path; then B0
#    alone without determinism
if ! wanted throughput; then :
elif [ -n "$(missing_for throughput)" ]; then skip "throughput_${SIZE}px" "missing $(missing_for throughput)"; else
  # shellcheck disable=SC2086
  step "throughput_${SIZE}px" "$TP_LIMIT" "$PY" benchmarks/train_throughput.py --device "$DEVICE" \
    "${TP_ARGS[@]}" --models $RATE_MODELS --rates-json "$OUT/rates.json"
  figure "throughput_${SIZE}px" "model alone +efficientnet_b0" "^full path" "^ratio"
  if [ "$DEVICE" = cuda ]; then
    step "throughput_not_deterministic" "$TP_ND_LIMIT" "$PY" benchmarks/train_throughput.py --device cuda \
      "${TP_ARGS[@]}" --models efficientnet_b0 --models-only --deterministic false
    figure "throughput_not_deterministic" "model alone +efficientnet_b0"
  fi
fi

# 5. plan (reads the rates; downloads nothing)
if ! wanted plan; then :
elif [ -n "$(missing_for plan)" ]; then skip plan "missing $(missing_for plan)"; else
  PLAN_RATES=()
  [ -s "$OUT/rates.json" ] && PLAN_RATES=(--rates "$OUT/rates.json")
  step plan "$PLAN_LIMIT" "$PY" -m emo_lib plan "${PLAN_ARGS[@]}" "${PLAN_RATES[@]}"
  figure plan "^total"
fi

echo
echo "=== summary ($(($(date +%s) - START)) s in all; logs in $OUT) ==="
printf '%-34s %-12s %7s  %s\n' step status seconds figure
failed=0
for entry in "${STEPS[@]}"; do
  IFS='|' read -r name status seconds note <<< "$entry"
  fig=$note
  for f in "${FIGURES[@]}"; do
    [ "${f%%|*}" = "$name" ] && fig=${f#*|}
  done
  printf '%-34s %-12s %7s  %s\n' "$name" "$status" "$seconds" "$fig"
  case "$status" in ok|skipped) ;; *) failed=1 ;; esac
done
exit $failed
