"""Fast LIME (emo_lib.explain.explain_batch) against stock lime, same model, images and seed.

Checks that both draw the same design matrix (the same perturbation masks) and give the same
top-k mask and weights, then prints the time of each and their ratio. Not a test: timings
depend on the machine; run it by hand, e.g.

    .venv/bin/python benchmarks/lime_benchmark.py --size 64 224 --num-samples 300 --images 4
    .venv/bin/python benchmarks/lime_benchmark.py --size 64 --segmentation slic
    .venv/bin/python benchmarks/lime_benchmark.py --device cuda --size 224 --num-samples 1000

Model: torchvision MobileNetV3-Small with random weights (7 classes, eval mode) in a
TorchClassifier that runs at the image size; images: synthetic faces from
``emo_lib.data.synthetic`` (astronaut crops if that module is unavailable).
"""
from __future__ import annotations

import os

os.environ.setdefault("TQDM_DISABLE", "1")  # lime's per-sample progress bar would cost time

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lime.lime_image import LimeImageExplainer  # noqa: E402

from emo_lib.data.manifest import EMOTIONS_7  # noqa: E402
from emo_lib.device import describe_device, resolve_device  # noqa: E402
from emo_lib.explain import explain_batch, make_segmenter  # noqa: E402
from emo_lib.classifier import TorchClassifier  # noqa: E402


def make_images(n: int, size: int, seed: int) -> tuple[np.ndarray, str]:
    try:
        from emo_lib.data.synthetic.face import render_face
        from emo_lib.data.synthetic.population import sample_face
    except ImportError:
        from skimage import data, transform

        base = data.astronaut()[:300, 100:400]  # the face and some background
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(n):
            y, x = rng.integers(0, 40, 2)
            crop = base[y:y + 260, x:x + 260]
            out.append((transform.resize(crop, (size, size), anti_aliasing=True) * 255)
                       .astype(np.uint8))
        return np.stack(out), "skimage astronaut crops"
    faces = [render_face(sample_face(EMOTIONS_7[i % 7], seed=seed + i)[0], size)[0]
             for i in range(n)]
    return np.stack(faces).astype(np.uint8), "synthetic faces (emo_lib.data.synthetic)"


def make_model(size: int, device: torch.device) -> TorchClassifier:
    from torchvision.models import mobilenet_v3_small

    torch.manual_seed(0)
    net = mobilenet_v3_small(weights=None, num_classes=7).eval()
    return TorchClassifier(net, EMOTIONS_7, input_size=size, device=device)


def stock_lime(model, images, labels, segmenter, num_samples, seed):
    """lime 0.2.0.1 with its defaults (batch_size=10), a fresh explainer per image; keeps its
    design matrices. ``model``: a TorchClassifier or a plain batch -> probabilities function."""
    out = []
    for image, label in zip(images, labels):
        explainer = LimeImageExplainer(random_state=seed)
        captured = {}
        data_labels = explainer.data_labels

        def keep(*args, _orig=data_labels, _c=captured, **kwargs):
            _c["data"], labels_ = _orig(*args, **kwargs)
            return _c["data"], labels_

        explainer.data_labels = keep
        exp = explainer.explain_instance(
            image, getattr(model, "predict_proba", model), labels=(label,), top_labels=None,
            hide_color=None, num_samples=num_samples, segmentation_fn=segmenter,
            random_seed=seed)
        out.append((exp, captured["data"]))
    return out


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def cheap_classifier(batch: np.ndarray) -> np.ndarray:
    """A near-free 7-class "model" (softmax of subsampled colour means): timing with it shows
    the cost of building the perturbed images alone."""
    m = batch[:, ::8, ::8].reshape(len(batch), -1, 3).mean(1) / 255.0
    z = np.concatenate([m, 1 - m, m[:, :1] * m[:, 1:2]], axis=1)
    e = np.exp(z - z.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def best_time(fn, repeat: int, device: torch.device):
    best, out = float("inf"), None
    for _ in range(repeat):
        sync(device)
        t0 = time.perf_counter()
        out = fn()
        sync(device)
        best = min(best, time.perf_counter() - t0)
    return best, out


def run(size: int, args: argparse.Namespace, device: torch.device) -> float:
    images, source = make_images(args.images, size, args.seed)
    model = make_model(size, device)
    labels = model.predict_proba(images).argmax(1).tolist()
    segmenter = make_segmenter(size, args.segmentation)
    model.predict_proba(images[:1].repeat(args.batch_size, 0), batch_size=args.batch_size)  # warm
    ns, bs, seed, rep = args.num_samples, args.batch_size, args.seed, args.repeat

    t_stock, stock = best_time(lambda: stock_lime(model, images, labels, segmenter, ns, seed),
                               rep, device)
    t_ours, ours = best_time(lambda: explain_batch(
        model, images, labels, num_samples=ns, segmenter=segmenter, batch_size=bs,
        model_batch_size=args.model_batch_size, seed=seed, keep_data=True, progress=False),
        rep, device)
    # the model alone on num_samples images per image, same forward-pass size: the floor
    probe = np.repeat(images, ns, axis=0)
    t_model, _ = best_time(lambda: model.predict_proba(probe, batch_size=args.model_batch_size),
                           rep, device)
    # the same two pipelines around a near-free model: perturbation cost only
    segments = [segmenter(im) for im in images]
    t_stock_cheap, _ = best_time(lambda: stock_lime(
        cheap_classifier, images, labels, lambda im, _it=iter(segments): next(_it), ns, seed),
        rep, device)
    t_ours_cheap, _ = best_time(lambda: explain_batch(
        cheap_classifier, images, labels, num_samples=ns, segments=segments, batch_size=bs,
        seed=seed, progress=False), rep, device)

    max_dw = 0.0
    for (exp, data), res in zip(stock, ours):
        assert np.array_equal(data, res.data), "design matrices differ"
        assert np.array_equal(exp.segments, res.segments), "superpixels differ"
        _, mask = exp.get_image_and_mask(res.label, positive_only=True, num_features=5,
                                         hide_rest=False)
        assert np.array_equal(mask.astype(bool), res.top_mask), "top-5 masks differ"
        w = dict(exp.local_exp[res.label])
        max_dw = max(max_dw, float(np.max(np.abs([w[f] - res.weights[f]
                                                  for f in range(res.n_segments)]))))
    n_seg = np.mean([r.n_segments for r in ours])
    n_eval = np.mean([r.n_evaluated for r in ours])
    print(f"size {size} px | {args.segmentation} | {args.images} images ({source}) | "
          f"num_samples {ns} | "
          f"{n_seg:.1f} superpixels, {n_eval:.1f} distinct perturbations per image | "
          f"{describe_device(device)} | best of {rep}")
    print(f"  identical design matrices, superpixels and top-5 masks; max |weight difference| "
          f"{max_dw:.2e}")
    print(f"  stock lime (batch_size=10): {t_stock:7.2f} s  ({t_stock / args.images:.3f} s/image)")
    mbs = args.model_batch_size or model.batch_size
    print(f"  explain_batch (calls of {bs}, forward passes of {mbs}): {t_ours:7.2f} s  "
          f"({t_ours / args.images:.3f} s/image)")
    print(f"  model alone, same images:   {t_model:7.2f} s")
    print(f"  speed-up: {t_stock / t_ours:.1f}x   (with a near-free model, i.e. perturbation "
          f"and fitting only: {t_stock_cheap:.2f} s vs {t_ours_cheap:.2f} s, "
          f"{t_stock_cheap / t_ours_cheap:.1f}x)")
    return t_stock / t_ours


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, nargs="+", default=[64, 224])
    parser.add_argument("--num-samples", type=int, default=300)
    parser.add_argument("--images", type=int, default=4)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--batch-size", type=int, default=256,
                        help="perturbed images per model call (lime: 10)")
    parser.add_argument("--model-batch-size", type=int, default=None,
                        help="forward-pass batch inside predict_proba (default: the model's 64)")
    parser.add_argument("--segmentation", choices=["quickshift", "slic"], default="quickshift",
                        help="superpixels: lime's quickshift or SLIC (the smoke pages' default "
                             "settings, emo_lib.explain.SLIC_N_SEGMENTS)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--repeat", type=int, default=1, help="report the best of N runs")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    for size in args.size:
        run(size, args, device)


if __name__ == "__main__":
    main()
