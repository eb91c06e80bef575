"""Does pinning the CPU's instruction set make numbers identical across machines, and at what cost?

Each configuration runs the same small workload in a fresh process (the libraries read their
instruction-set variables when they start), with an empty cache, one thread:

1. the paper-1 stand-in trained from scratch (MobileNetV3-Small, synthetic adults):
   a hash of its weights and of its probabilities on held-out faces;
2. LIME on two of those faces with that model (numpy/scikit-learn arithmetic: OpenBLAS and
   numpy's SIMD loops);
3. one paper-2 training unit (EfficientNet-B0, Algorithm 1 with the paper's transforms, focal
   loss, synthetic SE30K8): a hash of its test logits and its macro F1.

Configurations (``--configs``; environment variables as :mod:`emo_lib.compute_settings` sets
them):

- ``default``: this machine as it is;
- ``pinned``: ``emo-book build --pin-cpu avx2`` (:func:`emo_lib.compute_settings.pin_variables`);
- ``avx2_machine``: an AVX2-only machine as well as one can emulate it on this one: every
  library's own dispatch limited to AVX2 (torch, oneDNN, MKL via MKL_ENABLE_INSTRUCTIONS,
  OpenBLAS, numpy) without MKL's reproducibility mode;
- ``avx2_machine_pinned``: that machine with ``--pin-cpu avx2``;
- ``issue16``: the two variables issue 16's experiment forced (torch and oneDNN only);
- ``pinned_minus_<VAR>``: ``pinned`` without one variable (which ones matter).

Prints, per configuration, the hashes, the macro F1 and the seconds; then which configurations
give identical numbers. Timings alternate configurations (``--repeat``) so that a busy shared
machine biases none of them.

    .venv/bin/python benchmarks/cpu_pinning.py                     # every configuration
    .venv/bin/python benchmarks/cpu_pinning.py --configs default pinned --repeat 3

Measured here (Intel Xeon with AVX-512 and AMX, torch 2.14.1 with MKL 2024.2 and oneDNN 3.12,
numpy with OpenBLAS 0.3; 2 shared cores, one thread; stand-in at 32 px, 1400 faces, 4 epochs):

- ``default`` and ``pinned`` differ in every hash, and the stand-in's held-out accuracy moves
  from 0.681 to 0.629: the instruction set alone changes a trained model's numbers.
- ``pinned``, ``avx2_machine`` and ``avx2_machine_pinned`` are bit-identical (every hash, three
  rounds; also at 48 px): pinned, this machine computes what an AVX2 machine computes.
- ``issue16`` (torch and oneDNN only) differs from both (held-out 0.662): MKL, OpenBLAS and
  numpy must be pinned too. One variable left out at a time: without ATEN_CPU_CAPABILITY the
  unit differs, without ONEDNN_MAX_CPU_ISA everything, without OPENBLAS_CORETYPE or
  NPY_DISABLE_CPU_FEATURES the LIME weights; either MKL variable alone suffices.
- Cost: CPU time of the stand-in and the unit 1.19-1.54x the default's (median 1.38x, three
  alternating rounds); whole processes 1.03-1.09x (imports and face drawing do not change).

Limits: the AVX2 machine is emulated with the libraries' own dispatch switches, not a real
AVX2 processor; a real one could still differ where a library chooses its blocking from cache
sizes or the vendor (MKL on AMD). Only a build on such a machine settles it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _configs() -> dict[str, dict[str, str]]:
    from emo_lib.compute_settings import ComputeSettings, pin_variables

    pinned = {k: v for k, v in ComputeSettings(pin_cpu="avx2").environment().items()
              if v is not None and k not in ("EMO_DETERMINISTIC", "EMO_DATA_PATH",
                                             "CUBLAS_WORKSPACE_CONFIG")}
    machine = {k: v for k, v in pin_variables("avx2").items() if k != "MKL_CBWR"}
    out = {"default": {}, "pinned": pinned, "avx2_machine": machine,
           "avx2_machine_pinned": machine | pinned,
           "issue16": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}}
    for var in pin_variables("avx2"):
        out[f"pinned_minus_{var}"] = {k: v for k, v in pinned.items() if k != var}
    return out


def _sha(arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def workload(size: int, n: int, epochs: int, scale: float) -> dict:
    """The measured work, in this process (its environment already set)."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from emo_lib import jeong2021 as jg
    from emo_lib.augment import SELECTED_TRANSFORMS
    from emo_lib.device import machine_description
    from emo_lib.explain import explain_batch
    from emo_lib.models.standin import load_standin
    from emo_lib.train import FitConfig, run_units
    from emo_lib.train.crossval import data_fingerprint

    out: dict = {"machine": machine_description(torch.device("cpu"))}
    t0, c0 = time.perf_counter(), time.process_time()
    model = load_standin(size=size, epochs=epochs, n=n, seed=0, progress=False)
    out["standin_s"] = time.perf_counter() - t0
    out["standin_cpu_s"] = time.process_time() - c0
    out["standin_weights"] = _sha(v.detach().cpu().numpy() for v in
                                  model.module.state_dict().values())
    from emo_lib.data.registry import load_dataset
    from emo_lib.models.standin import training_images

    faces, _ = training_images(load_dataset("synthetic:adult_pretrain", n=140, size=size,
                                            seed=7, progress=False), size)
    proba = model.predict_proba(faces)
    out["standin_proba"] = _sha([proba])
    out["standin_heldout_accuracy"] = float(model.info.get("heldout_accuracy", float("nan")))
    out["standin_mean_top_probability"] = float(proba.max(1).mean())
    t0 = time.perf_counter()
    res = explain_batch(model, faces[:2], proba[:2].argmax(1).tolist(), num_samples=150,
                        segmentation={"method": "slic"}, progress=False)
    out["lime_s"] = time.perf_counter() - t0
    out["lime_weights"] = _sha([r.weights for r in res])

    t0, c0 = time.perf_counter(), time.process_time()
    manifest, images, labels = jg.load_se30k8("synthetic:se30k8_like", scale=scale,
                                              image_size=size, seed=0)
    n_min = jg.effective_n_min(1500, scale, True)
    recipe, loss = jg.method_cell("proposed", n_min=n_min,
                                  selected_transforms=SELECTED_TRANSFORMS)
    cell = {"method": "proposed", "model": "efficientnet_b0", "loss": loss, "recipe": recipe}
    (units,) = jg.cell_units([cell], labels, manifest.classes,
                             data_id=data_fingerprint(images, labels), image_size=size,
                             folds=2, config=FitConfig(epochs=1, lr=1e-4, batch_size=32),
                             seed=0, device="cpu")
    run = run_units(units[:1], executor="inline",
                    arrays={"images": images, "labels": labels.astype(np.int64)},
                    progress=False)
    run.raise_failures()
    out["unit_s"] = time.perf_counter() - t0
    out["unit_cpu_s"] = time.process_time() - c0
    from emo_lib.train import read_arrays, unit_store

    arrays = read_arrays(unit_store(True), units[0].key, 0)
    out["unit_logits"] = _sha([arrays["logits"]])
    out["unit_macro_f1"] = run.records[units[0].id]["row"]["macro_f1"]
    return out


def child(args: argparse.Namespace) -> None:
    print(json.dumps(workload(args.size, args.n, args.epochs, args.scale)))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", nargs="+", default=None)
    p.add_argument("--repeat", type=int, default=1, help="rounds over the configurations")
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--n", type=int, default=1400, help="stand-in training images")
    p.add_argument("--epochs", type=int, default=4, help="stand-in epochs (4: it learns, "
                   "68 % held-out at 32 px; fewer leave it at chance)")
    p.add_argument("--scale", type=float, default=0.02, help="synthetic SE30K8 scale")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json", default=None, help="write every result here")
    args = p.parse_args(argv)
    if args.child:
        child(args)
        return
    configs = _configs()
    names = args.configs or list(configs)
    results: dict[str, list[dict]] = {name: [] for name in names}
    for round_ in range(args.repeat):
        for name in names:
            env = {k: v for k, v in os.environ.items()
                   if k not in {v_ for c in configs.values() for v_ in c}}
            env |= configs[name] | {"OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1",
                                    "PYTHONPATH": str(ROOT)}
            with tempfile.TemporaryDirectory() as cache:
                env["EMO_CACHE"] = cache
                t0 = time.perf_counter()
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", "--size", str(args.size), "--n",
                     str(args.n), "--epochs", str(args.epochs), "--scale", str(args.scale)],
                    env=env, capture_output=True, text=True)
            if proc.returncode:
                print(f"{name}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            r["wall_s"] = time.perf_counter() - t0
            results[name].append(r)
            print(f"round {round_ + 1} {name:34s} capability {r['machine']['cpu_capability']:7s}"
                  f" stand-in {r['standin_weights']} / {r['standin_proba']}  LIME "
                  f"{r['lime_weights']}  unit {r['unit_logits']} (macro F1 "
                  f"{r['unit_macro_f1']:.4f}; stand-in held-out "
                  f"{r['standin_heldout_accuracy']:.4f})  {r['wall_s']:.0f} s", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    fields = ("standin_weights", "standin_proba", "lime_weights", "unit_logits")
    firsts = {n: rs[0] for n, rs in results.items() if rs}
    print("\nidentical numbers (every hash equal):")
    groups: dict[tuple, list[str]] = {}
    for name, r in firsts.items():
        groups.setdefault(tuple(r[f] for f in fields), []).append(name)
    for i, members in enumerate(groups.values()):
        print(f"  group {i + 1}: {', '.join(members)}")
    import statistics

    print("\nseconds (median over rounds): wall stand-in / LIME / unit / whole process; "
          "CPU (process time) stand-in / unit")
    for name, rs in results.items():
        if rs:
            med = {k: statistics.median(r[k] for r in rs)
                   for k in ("standin_s", "lime_s", "unit_s", "wall_s", "standin_cpu_s",
                             "unit_cpu_s")}
            print(f"  {name:34s} {med['standin_s']:6.1f} {med['lime_s']:6.1f} "
                  f"{med['unit_s']:6.1f} {med['wall_s']:6.1f}   {med['standin_cpu_s']:6.1f} "
                  f"{med['unit_cpu_s']:6.1f}")
    base = results.get("default") or []
    for name, rs in results.items():
        if name != "default" and rs and len(rs) == len(base):
            ratios = [(r["standin_cpu_s"] + r["unit_cpu_s"])
                      / (b["standin_cpu_s"] + b["unit_cpu_s"]) for r, b in zip(rs, base)]
            print(f"  CPU time {name} / default, per round: "
                  + ", ".join(f"{x:.2f}" for x in ratios))


if __name__ == "__main__":
    main()
