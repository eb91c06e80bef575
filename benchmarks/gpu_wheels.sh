#!/usr/bin/env bash
# The few wheels an offline GPU node usually lacks, in one folder to copy there (`make
# gpu-wheels`). Such a node has a system python3 with its own torch and the scientific stack but
# no internet; benchmarks/gpu_check.sh then runs with PYTHON=python3 and the repository on
# PYTHONPATH. What it lacks and this folder holds:
#   - papermill, ipykernel and nbconvert with their dependencies (the notebook kernel stack);
#   - lime 0.2.0.1, built here into a wheel (PyPI has only its source archive, and building
#     it needs setuptools from the network);
#   - facenet-pytorch 2.6.0 (MTCNN, weights inside; no dependencies: its metadata pins an old
#     torch that the node's torch replaces);
#   - submitit with its dependencies (training units on local processes or SLURM arrays).
# Versions follow requirements-lock.txt (pip's constraints). Binary wheels (pyzmq, tornado,
# psutil, debugpy...) are for this machine's Python and platform unless told otherwise:
#   TARGET_PYTHON_VERSION=3.10 TARGET_PLATFORM=manylinux2014_x86_64 benchmarks/gpu_wheels.sh
# The folder's size is printed at the end (the goal: under 64 MiB). On the node:
#   python3 -m pip install --user --no-index --find-links gpu-wheels papermill ipykernel nbconvert submitit
#   python3 -m pip install --user --no-index --no-deps --find-links gpu-wheels lime facenet-pytorch
#
# Usage: benchmarks/gpu_wheels.sh [DEST]   (default: gpu-wheels/ at the repository root;
# PYTHON=... picks the interpreter whose pip downloads, default python3)
set -eu
REPO=$(cd "$(dirname "$0")/.." && pwd)
DEST=${1:-$REPO/gpu-wheels}
PY=${PYTHON:-python3}
mkdir -p "$DEST"
CONSTRAINTS=$(mktemp)
trap 'rm -f "$CONSTRAINTS"' EXIT
# the lock's pins, less the packages the node brings itself (torch's pair) or that are not wheels
grep -v -i -E '^(#|torch==|torchvision==|triton==|nvidia-)' "$REPO/requirements-lock.txt" \
  > "$CONSTRAINTS"

TARGET=()
if [ -n "${TARGET_PYTHON_VERSION:-}" ] || [ -n "${TARGET_PLATFORM:-}" ]; then
  TARGET=(--only-binary=:all:)
  [ -n "${TARGET_PYTHON_VERSION:-}" ] && TARGET+=(--python-version "$TARGET_PYTHON_VERSION")
  [ -n "${TARGET_PLATFORM:-}" ] && TARGET+=(--platform "$TARGET_PLATFORM")
fi

echo "downloading the kernel stack and submitit into $DEST"
"$PY" -m pip download --quiet -d "$DEST" -c "$CONSTRAINTS" "${TARGET[@]}" \
  papermill ipykernel nbconvert submitit
echo "facenet-pytorch (no dependencies)"
"$PY" -m pip download --quiet --no-deps -d "$DEST" "${TARGET[@]}" facenet-pytorch==2.6.0
echo "lime, built into a wheel (pure Python: any Python 3 takes it)"
"$PY" -m pip wheel --quiet --no-deps -w "$DEST" lime==0.2.0.1
# anything that is not a wheel cannot be installed offline without building: none may remain
if ls "$DEST" | grep -v -E '\.whl$' > /dev/null; then
  echo "not wheels (a node without a compiler cannot install them):" >&2
  ls "$DEST" | grep -v -E '\.whl$' >&2
  exit 1
fi
size=$(du -sb "$DEST" | cut -f1)
echo "$(ls "$DEST" | wc -l) wheels, $((size / 1024 / 1024)) MiB ($size bytes) in $DEST"
if [ "$size" -ge $((64 * 1024 * 1024)) ]; then
  echo "over 64 MiB" >&2
  exit 1
fi
