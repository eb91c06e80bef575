"""One training unit timed end to end: a fold of Table 4's "proposed" cell (Algorithm 1 with the
paper's five transforms, focal loss) on the synthetic SE30K8 stand-in, through the same path a
page takes (uint8 image cache, training unit, inline executor). Prints the data preparation
time, the unit's set-up and per-epoch seconds, steady training images/s and the peak GPU
memory. Not a test: ``benchmarks/gpu_check.sh`` runs it, e.g.

    .venv/bin/python benchmarks/fold_timing.py --device cuda --size 224 --scale 0.1 --epochs 5
"""
from __future__ import annotations

import os

os.environ.setdefault("TQDM_DISABLE", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emo_lib import jeong2021 as jg  # noqa: E402
from emo_lib.augment import SELECTED_TRANSFORMS  # noqa: E402
from emo_lib.device import describe_device, resolve_device  # noqa: E402
from emo_lib.train import FitConfig, run_units  # noqa: E402
from emo_lib.train.crossval import data_fingerprint  # noqa: E402


def compute_logits(unit, images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The test logits of ``unit`` trained afresh in this process, into a throwaway store."""
    import tempfile

    from emo_lib.train import read_arrays, unit_store
    from emo_lib.train.units import compute

    with tempfile.TemporaryDirectory() as tmp:
        store = unit_store(tmp)
        compute(unit, store, arrays={"images": images, "labels": labels.astype(np.int64)})
        return read_arrays(store, unit.key, unit.fold)["logits"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--scale", type=float, default=0.01, help="of the paper's 28,000 images")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--model", default="efficientnet_b0")
    p.add_argument("--twice", action="store_true",
                   help="train the same fold a second time and compare the logits")
    args = p.parse_args()
    device = resolve_device(args.device)
    print(f"device {describe_device(device)}; {args.model} at {args.size} px, synthetic SE30K8 "
          f"at scale {args.scale}, fold 0 of {args.folds}, {args.epochs} epochs, "
          f"batch {args.batch_size}")
    t0 = time.perf_counter()
    manifest, images, labels = jg.load_se30k8("synthetic:se30k8_like", scale=args.scale,
                                              image_size=args.size, seed=0)
    t_data = time.perf_counter() - t0
    n_min = jg.effective_n_min(1500, args.scale, True)
    recipe, loss = jg.method_cell("proposed", n_min=n_min,
                                  selected_transforms=SELECTED_TRANSFORMS)
    cell = {"method": "proposed", "model": args.model, "loss": loss, "recipe": recipe}
    config = FitConfig(epochs=args.epochs, lr=1e-4, batch_size=args.batch_size)
    (units,) = jg.cell_units([cell], labels, manifest.classes,
                             data_id=data_fingerprint(images, labels), image_size=args.size,
                             folds=args.folds, config=config, seed=0, device=device.type)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    run = run_units(units[:1], executor="inline",
                    arrays={"images": images, "labels": labels.astype(np.int64)},
                    progress=False)
    t_unit = time.perf_counter() - t0
    run.raise_failures()
    record = run.records[units[0].id]
    timing, row = record["timing"], record["row"]
    epochs = np.asarray(timing["epoch_seconds"])
    steady = float(np.median(epochs[1:] if len(epochs) > 1 else epochs))
    print(f"data: {len(images)} images drawn and decoded into the uint8 cache in {t_data:.1f} s")
    print(f"unit: {t_unit:.1f} s in all ({'computed' if run.computed else 'read from cache'}); "
          f"{timing['n_train_items']} training items (N_min {n_min}), {timing['n_val']} "
          f"validation, {row['n_test']} test images")
    print("epoch seconds: " + ", ".join(f"{s:.2f}" for s in epochs))
    print(f"steady training rate: {timing['n_train_items'] / steady:.1f} images/s "
          f"(set-up, validation and test outside the epochs: "
          f"{t_unit - float(epochs.sum()):.1f} s)")
    print(f"fold 0: accuracy {row['accuracy']:.3f}, macro F1 {row['macro_f1']:.3f}")
    print(f"data path: {timing.get('data_path')} ({timing.get('data_path_reason')})")
    if device.type == "cuda":
        print(f"peak GPU memory: {torch.cuda.max_memory_allocated() / 2**30:.2f} GiB")
    if args.twice:
        from emo_lib.compute_settings import ComputeSettings
        from emo_lib.train import read_arrays, unit_store

        first = read_arrays(unit_store(True), units[0].key, 0)["logits"]
        t0 = time.perf_counter()
        second = compute_logits(units[0], images, labels)
        diff = float(np.max(np.abs(first - second)))
        mode = "deterministic" if ComputeSettings.from_env().deterministic else \
            "not deterministic (cuDNN autotuning)"
        print(f"determinism ({mode}): the same fold twice: "
              + ("identical logits" if diff == 0 else f"logits differ, max |diff| {diff:.3g}")
              + f" ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
