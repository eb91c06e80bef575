"""Fast LIME (emo_lib.explain.explain_batch) against stock lime, same model, images and seed.

Checks that both draw the same design matrix (the same perturbation masks) and give the same
top-k mask and weights, then prints the time of each and their ratio. Not a test: timings
depend on the machine; run it by hand, e.g.

    .venv/bin/python benchmarks/lime_benchmark.py --size 64 224 --num-samples 300 --images 4
    .venv/bin/python benchmarks/lime_benchmark.py --size 64 --segmentation slic
    .venv/bin/python benchmarks/lime_benchmark.py --device cuda --size 224 --num-samples 1000

Model (``--model``): ``standin`` (default), the paper-1 stand-in (by default the smoke book's:
64 px, 3500 synthetic adults, 8 epochs; ``--standin-size/-n/-epochs``; cached in
``$EMO_CACHE``; at 32 px, 1400 faces and 4 epochs it already reaches 68 %), so its
probabilities move when a face is perturbed and identical masks and weights mean something (the
spread of the explained class's probability over the perturbations is printed); ``random``:
MobileNetV3-Small with random weights, whose probabilities are nearly constant. Images:
synthetic faces from ``emo_lib.data.synthetic`` (astronaut crops if that module is unavailable).
The "near-free model" timing runs both pipelines around a model that costs almost nothing (a
TorchClassifier pooling the image on the device, for explain_batch; the same arithmetic in numpy
for stock lime): what building the perturbations and fitting the surrogates cost.
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



def segments_in_turn(segments):
    """A segmentation function that hands out ``segments`` one after another (stock LIME calls it
    once per image)."""
    it = iter(segments)
    return lambda image: next(it)

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


def make_model(kind: str, size: int, device: torch.device, n: int = 3500,
               epochs: int = 8, standin_size: int = 64) -> TorchClassifier:
    """The explained model: the trained stand-in (at ``standin_size`` px; larger images are
    resized to it inside the model), or a random MobileNetV3-Small at ``size``."""
    if kind == "standin":
        from emo_lib.models.standin import load_standin

        model = load_standin(size=standin_size, n=n, epochs=epochs, seed=0,
                             device=str(device), progress=False)
        model.module.eval()
        return model
    from torchvision.models import mobilenet_v3_small

    torch.manual_seed(0)
    net = mobilenet_v3_small(weights=None, num_classes=7).eval()
    return TorchClassifier(net, EMOTIONS_7, input_size=size, device=device)


class _Pool(torch.nn.Module):
    """A near-free 7-class network: subsampled colour means through a fixed linear map."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = x[:, :, ::8, ::8].mean(dim=(2, 3))
        return torch.cat([m, 1 - m, m[:, :1] * m[:, 1:2]], dim=1) * 4.0


def cheap_torch_model(size: int, device: torch.device) -> TorchClassifier:
    return TorchClassifier(_Pool(), EMOTIONS_7, input_size=size, device=device,
                           mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))


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
    """:class:`_Pool` in numpy (for stock lime, which hands numpy arrays to its model)."""
    m = batch[:, ::8, ::8].reshape(len(batch), -1, 3).mean(1) / 255.0
    z = np.concatenate([m, 1 - m, m[:, :1] * m[:, 1:2]], axis=1) * 4.0
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
    t0 = time.perf_counter()
    model = make_model(args.model, size, device, args.standin_n, args.standin_epochs,
                       args.standin_size)
    t_build = time.perf_counter() - t0
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
        cheap_classifier, images, labels, segments_in_turn(segments), ns, seed),
        rep, device)
    cheap = cheap_torch_model(size, device)
    t_ours_cheap, _ = best_time(lambda: explain_batch(
        cheap, images, labels, num_samples=ns, segments=segments, batch_size=bs,
        seed=seed, progress=False), rep, device)

    max_dw, max_w, same_masks = 0.0, 0.0, 0
    for (exp, data), res in zip(stock, ours):
        assert np.array_equal(data, res.data), "design matrices differ"
        assert np.array_equal(exp.segments, res.segments), "superpixels differ"
        _, mask = exp.get_image_and_mask(res.label, positive_only=True, num_features=5,
                                         hide_rest=False)
        same_masks += int(np.array_equal(mask.astype(bool), res.top_mask))
        w = dict(exp.local_exp[res.label])
        max_dw = max(max_dw, float(np.max(np.abs([w[f] - res.weights[f]
                                                  for f in range(res.n_segments)]))))
        max_w = max(max_w, float(np.max(np.abs(res.weights))))
    # Stock lime runs the model on batches of 10, explain_batch on larger ones: a network's
    # arithmetic can round differently with the batch size (last bits), so the weights agree
    # to rounding and a top-5 mask can differ where two weights are that close.
    if max_dw > 1e-4 * max(max_w, 1e-12):
        raise AssertionError(f"weights differ by {max_dw:.2e} (largest weight {max_w:.2e})")
    n_seg = np.mean([r.n_segments for r in ours])
    n_eval = np.mean([r.n_evaluated for r in ours])
    probs = model.predict_proba(images)
    # a model whose probabilities do not move with the masks gives weights near 0 (a random
    # MobileNetV3-Small: about 1e-32), and then identical weights prove nothing
    largest = [float(np.max(np.abs(r.weights))) for r in ours]
    if args.model == "standin":
        info = model.info
        print(f"model: the stand-in trained at {model.input_size} px on {args.standin_n} "
              f"faces, {args.standin_epochs} epochs ({info.get('cache')}, held-out accuracy "
              f"{info.get('heldout_accuracy', float('nan')):.3f}, {t_build:.1f} s); top "
              f"probabilities {np.round(probs.max(1), 3).tolist()}")
    else:
        print(f"model: random MobileNetV3-Small; top probabilities "
              f"{np.round(probs.max(1), 3).tolist()}")
    print(f"  largest |weight| per image: {', '.join(f'{w:.2e}' for w in largest)} "
          f"(surrogate R^2 {', '.join(f'{r.score:.2f}' for r in ours)})")
    print(f"size {size} px | {args.segmentation} | {args.images} images ({source}) | "
          f"num_samples {ns} | "
          f"{n_seg:.1f} superpixels, {n_eval:.1f} distinct perturbations per image | "
          f"{describe_device(device)} | best of {rep}")
    print(f"  identical design matrices and superpixels; top-5 masks identical in {same_masks} "
          f"of {len(ours)} images; max |weight difference| {max_dw:.2e} (largest weight "
          f"{max_w:.2e})")
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
    parser.add_argument("--model", choices=["standin", "random"], default="standin",
                        help="the explained model (see the module docstring)")
    parser.add_argument("--standin-size", type=int, default=64,
                        help="the stand-in's input size (images are resized to it)")
    parser.add_argument("--standin-n", type=int, default=3500,
                        help="synthetic adults the stand-in trains on (the smoke default)")
    parser.add_argument("--standin-epochs", type=int, default=8)
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
