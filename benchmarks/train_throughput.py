"""Training throughput: the model alone against the full data path, and their ratio.

* model alone: random uint8 batches already on the device, each step exactly ``fit``'s
  (preprocess, forward under autocast on CUDA, focal loss, backward, Adam step);
* full path: image files decoded once into the uint8 image cache (memory-mapped), labels with
  SE30K8's long-tailed profile, Algorithm 1's items (N_min scaled like the paper's 1500 of
  28,000, the paper's five transforms), ``ArrayDataset(item_seed=...)`` and
  :func:`emo_lib.train.fit` itself (on CUDA: the resident data path, every item materialised
  once on the GPU; on the CPU: the DataLoader path, or ``--resident``).

Images per second of each and ``full / model`` (goal on a GPU: >= 0.8). Not a test: run it by
hand, e.g.

    .venv/bin/python benchmarks/train_throughput.py                       # CPU, 64 px, small
    .venv/bin/python benchmarks/train_throughput.py --device cuda --size 224 --images 4096
    .venv/bin/python benchmarks/train_throughput.py --device cuda --size 224 --models-only \
        --models efficientnet_b0 efficientnet_b5 resnet50 vgg16 --rates-json rates.json

``--rates-json`` writes the model-alone rates ({model: {size: images/s}}) that
``emo-book plan --rates FILE`` turns into GPU hours. The model-alone steps run under the
determinism setting (``--deterministic true|false``, default this process's compute settings,
:func:`emo_lib.device.set_determinism`), so running both measures what determinism costs.
"""
from __future__ import annotations

import os

os.environ.setdefault("TQDM_DISABLE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emo_lib.augment import SELECTED_TRANSFORMS  # noqa: E402
from emo_lib.balance import balanced_items  # noqa: E402
from emo_lib.cache import DiskCache  # noqa: E402
from emo_lib.data.images import load_images  # noqa: E402
from emo_lib.data.manifest import EMOTIONS_8  # noqa: E402
from emo_lib.device import describe_device, resolve_device, set_determinism  # noqa: E402
from emo_lib.losses import make_loss  # noqa: E402
from emo_lib.models import load_model  # noqa: E402
from emo_lib.train import ArrayDataset, FitConfig, fit  # noqa: E402
from emo_lib.train.fit import _autocast, _to_model_input, optimizer_step  # noqa: E402

#: SE30K8's class profile (the synthetic preset's, from the paper's counts): 28,000 images.
PAPER_IMAGES = 28_000
PAPER_N_MIN = 1500


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def model_alone(name: str, size: int, batch: int, steps: int, warmup: int,
                device: torch.device) -> float:
    """Images/s of fit's training step on random uint8 batches already on the device."""
    torch.manual_seed(0)
    model = load_model(name, classes=EMOTIONS_8, input_size=size, device=str(device))
    module = model.module.train()
    opt = torch.optim.Adam(module.parameters(), lr=1e-4)
    loss_fn = make_loss("focal", np.ones(len(EMOTIONS_8))).to(device)
    _, amp_dtype = _autocast(model, True)
    scaler = torch.amp.GradScaler(device.type) if amp_dtype == torch.float16 else None
    x = torch.randint(0, 256, (batch, size, size, 3), dtype=torch.uint8, device=device)
    y = torch.randint(0, len(EMOTIONS_8), (batch,), device=device)

    def step() -> None:
        ctx, _ = _autocast(model, True)
        with ctx:
            logits = module(_to_model_input(model, x, nhwc=True))
        optimizer_step(loss_fn(logits.float(), y), opt, scaler)

    for _ in range(warmup):
        step()
    sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return steps * batch / (time.perf_counter() - start)


def long_tailed_labels(n: int) -> np.ndarray:
    from emo_lib.data.synthetic.presets import se30k8_counts

    counts = np.array(list(se30k8_counts(1.0).values()), dtype=float)
    per_class = np.maximum(2, np.round(counts / counts.sum() * n)).astype(int)
    y = np.repeat(np.arange(len(per_class)), per_class)
    return np.random.default_rng(0).permutation(y)


def write_images(folder: Path, n: int, size: int) -> list[Path]:
    """Smooth random JPEGs (decoding them is the cache's one-time cost)."""
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        low = rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)
        im = Image.fromarray(low).resize((size, size), Image.BICUBIC)
        paths.append(folder / f"{i:06d}.jpg")
        im.save(paths[-1], quality=90)
    return paths


def full_path(name: str, size: int, batch: int, n_images: int, epochs: int,
              device: torch.device, resident: bool | None, workdir: Path) -> dict[str, float]:
    """fit() on Algorithm 1's items over the uint8 cache: setup and steady images/s."""
    t0 = time.perf_counter()
    paths = write_images(workdir, n_images, size)
    t_files = time.perf_counter() - t0
    t0 = time.perf_counter()
    cache = DiskCache("bench_u8", code=("emo_lib.data.images",), root=workdir / "cache")
    images = load_images(paths, size, cache=cache)
    t_cache = time.perf_counter() - t0
    labels = long_tailed_labels(len(images))[: len(images)]
    n_min = max(1, round(PAPER_N_MIN * len(labels) / PAPER_IMAGES))
    items = balanced_items(labels, n_min, SELECTED_TRANSFORMS, seed=0)
    train = ArrayDataset(images, labels, items, item_seed=0)
    torch.manual_seed(0)
    model = load_model(name, classes=EMOTIONS_8, input_size=size, device=str(device))
    loss = make_loss("focal", np.bincount(train.item_labels, minlength=len(EMOTIONS_8)))
    sync(device)
    t0 = time.perf_counter()
    result = fit(model, train, None, loss=loss, config=FitConfig(epochs=epochs, lr=1e-4,
                                                                 batch_size=batch),
                 seed=0, progress=False, resident=resident)
    sync(device)
    total = time.perf_counter() - t0
    epoch_s = result.history["seconds"].to_numpy()
    steady = float(np.median(epoch_s[1:] if len(epoch_s) > 1 else epoch_s))
    return {"items": len(items), "n_min": n_min, "files_s": t_files, "cache_s": t_cache,
            "setup_s": total - float(epoch_s.sum()), "epoch_s": steady,
            "rate": len(items) / steady, "rate_with_setup_30": len(items) * 30 /
            (30 * steady + total - float(epoch_s.sum()))}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--model", default="efficientnet_b0")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--images", type=int, default=256, help="images of the full path")
    p.add_argument("--epochs", type=int, default=2, help="epochs of the full path (>= 2: the "
                   "first is left out of the steady rate)")
    p.add_argument("--steps", type=int, default=6, help="timed steps of the model alone")
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--resident", action="store_true", help="the resident path on the CPU too")
    p.add_argument("--models-only", action="store_true", help="only model-alone rates")
    p.add_argument("--models", nargs="+", default=None, help="model-alone rates of these")
    p.add_argument("--rates-json", default=None, help="write {model: {size: img/s}} here")
    p.add_argument("--deterministic", choices=("true", "false"), default=None,
                   help="CUDA determinism of the model-alone steps (default: the compute "
                        "settings of this process, deterministic unless EMO_DETERMINISTIC=0)")
    args = p.parse_args()
    device = resolve_device(args.device)
    mode = set_determinism(device, None if args.deterministic is None
                           else args.deterministic == "true")
    print(f"device {describe_device(device)}, torch {torch.__version__}, model {args.model}, "
          f"{args.size} px, batch {args.batch_size}"
          + (f", {'deterministic' if mode else 'not deterministic'}"
             if device.type == "cuda" else ""))
    rates: dict[str, dict[str, float]] = {}
    for name in args.models or [args.model]:
        r = model_alone(name, args.size, args.batch_size, args.steps, args.warmup, device)
        rates.setdefault(name, {})[str(args.size)] = r
        print(f"model alone   {name:>16}: {r:10.1f} images/s")
    if args.rates_json:
        Path(args.rates_json).write_text(json.dumps(rates, indent=2))
        print(f"rates written to {args.rates_json}")
    if args.models_only:
        return
    alone = rates[args.model][str(args.size)] if args.model in rates else \
        model_alone(args.model, args.size, args.batch_size, args.steps, args.warmup, device)
    with tempfile.TemporaryDirectory() as tmp:
        full = full_path(args.model, args.size, args.batch_size, args.images, args.epochs,
                         device, True if args.resident else None, Path(tmp))
    print(f"full path     {args.model:>16}: {full['rate']:10.1f} images/s "
          f"({full['items']} Algorithm 1 items from {args.images} images, N_min {full['n_min']};"
          f" steady epoch {full['epoch_s']:.2f} s)")
    print(f"  one-time: write files {full['files_s']:.1f} s, decode into the uint8 cache "
          f"{full['cache_s']:.1f} s, fit set-up (resident copies) {full['setup_s']:.2f} s; "
          f"over 30 epochs with set-up: {full['rate_with_setup_30']:.1f} images/s")
    print(f"ratio full / model alone: {full['rate'] / alone:.2f} (goal on a GPU: >= 0.8)")


if __name__ == "__main__":
    main()
