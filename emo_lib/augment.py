"""The paper-2 transform catalogue (Jeong & Kim 2021, Table 1 plus random zoom).

Each transform is a ``torchvision.transforms.v2`` operation on a uint8 (or float) CHW tensor;
randomness comes from torch's generator, so ``torch.manual_seed`` makes it repeatable.
Magnitudes are Table 1's (``PAPER_RANGES``, transcribed in book/paper_values.yaml
``jeong2021.table1_transforms``; a test checks the two agree). The paper works at 224 x 224, so
magnitudes given in pixels (blur kernel and sigma, crop side, cutout side) are scaled by
``image_size / 224``; rates and angles are size-free. The blur kernel is the exception: it
stays at Table 1's 3-7 px, because scaled to 64 px or less it would shrink to a near-identity
(sigma < 0.4 px) and its Table 2-3 rows would measure nothing; at small sizes it is therefore
relatively stronger than the paper's.

Choices the paper leaves open (it used Keras; we use torchvision), stated once here:

* blur: kernel k drawn uniformly from {3, 5, 7}, sigma = OpenCV's default for k
  (0.3 ((k - 1) / 2 - 1) + 0.8, i.e. 0.8 / 1.1 / 1.4 px), at every image size.
* random_crop: a 200 x 200 window of a 224 image; the output is smaller, and
  :class:`emo_lib.train.ArrayDataset` resizes it back to the input size (so it acts as a zoom
  of 224/200 with a random offset).
* random_flip: horizontal and vertical flips, each with probability 0.5 (Keras
  ``"horizontal_and_vertical"``).
* rotation, translation, random_zoom: ``RandomAffine`` with constant black fill (Keras fills by
  reflection; torchvision's affine has no reflect mode).
* cutout: a grey (128) square of side uniform in [0, 70] px, centred anywhere in the image and
  clipped at the border (DeVries & Taylor 2017).
* random_contrast: contrast factor uniform in [0.7, 1.3] (``ColorJitter``; torchvision blends
  with the grey mean of the image, Keras with the per-channel mean).
* random_height / random_width: stretch one axis by a factor in [0.7, 1.3] and centre-crop or
  black-pad back to the input size (resizing back would undo the stretch).
* random_zoom: **not in Table 1** (its range is not printed); we use scale [0.7, 1.3], the
  +/-0.3 of the other rate magnitudes.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import torch
import torchvision.transforms.v2 as T
import torchvision.transforms.v2.functional as TF

from .validation import check_choice, check_choices, check_int

#: The transform names in the paper's order (Table 1, then random zoom from Tables 2-3).
TRANSFORMS: tuple[str, ...] = (
    "blur", "random_crop", "random_flip", "rotation", "translation", "cutout",
    "random_contrast", "random_height", "random_width", "random_zoom",
)

#: The five transforms the paper selects for Algorithm 1 (top EfficientNet-B0 F1 in Table 3).
SELECTED_TRANSFORMS: tuple[str, ...] = ("random_crop", "rotation", "cutout", "random_width",
                                        "random_zoom")

#: The image side Table 1's pixel magnitudes refer to.
PAPER_IMAGE_SIZE = 224

#: Table 1's magnitude ranges as printed (None: no range printed).
PAPER_RANGES: dict[str, tuple[float, float] | None] = {
    "blur": (3, 7),                   # Gaussian kernel size, px
    "random_crop": (200, 200),        # target height and width, px
    "random_flip": None,              # horizontal and vertical
    "rotation": (-0.125, 0.125),      # fraction of 2 pi
    "translation": (-0.3, 0.3),       # fraction of the size
    "cutout": (0, 70),                # side of the grey square, px
    "random_contrast": (-0.3, 0.3),   # rate
    "random_height": (-0.3, 0.3),     # rate
    "random_width": (-0.3, 0.3),      # rate
    "random_zoom": None,              # not in Table 1
}

#: Our range for random zoom (Table 1 omits it): the +/-0.3 of the other rate magnitudes.
ZOOM_RANGE: tuple[float, float] = (-0.3, 0.3)

GREY = 128
_BLUR_KERNELS = (3, 5, 7)


def _cv2_sigma(kernel: int) -> float:
    """OpenCV's sigma for a Gaussian kernel of this size when none is given."""
    return 0.3 * ((kernel - 1) * 0.5 - 1) + 0.8


def _scale(image_size: int) -> float:
    return check_int("image_size (px)", image_size, minimum=8) / PAPER_IMAGE_SIZE


def blur_settings(image_size: int) -> list[tuple[int, float]]:
    """(kernel, sigma) pairs blur draws from: Table 1's kernels 3/5/7 at every size (see the
    module docstring for why they are not scaled)."""
    _scale(image_size)  # validates the size
    return [(k, _cv2_sigma(k)) for k in _BLUR_KERNELS]


def crop_side(image_size: int) -> int:
    """Side of random_crop's window: Table 1's 200 px, scaled from 224."""
    return min(image_size, max(1, int(round(PAPER_RANGES["random_crop"][1] * _scale(image_size)))))


def cutout_max_side(image_size: int) -> int:
    """Largest cutout side: Table 1's 70 px, scaled from 224."""
    return int(round(PAPER_RANGES["cutout"][1] * _scale(image_size)))


class Cutout(T.Transform):
    """Grey square of side uniform in [0, max_side] px, centred uniformly, clipped at the border."""

    def __init__(self, max_side: int, fill: int = GREY) -> None:
        super().__init__()
        self.max_side = check_int("max_side", max_side, minimum=0)
        self.fill = fill

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        h, w = TF.get_size(flat_inputs[0])
        side = int(torch.randint(0, self.max_side + 1, (1,)))
        cy = int(torch.randint(0, h, (1,)))
        cx = int(torch.randint(0, w, (1,)))
        top, left = max(0, cy - side // 2), max(0, cx - side // 2)
        bottom, right = min(h, cy - side // 2 + side), min(w, cx - side // 2 + side)
        return dict(top=top, left=left, bottom=bottom, right=right)

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        if not isinstance(inpt, torch.Tensor):
            raise TypeError(f"Cutout works on image tensors, got {type(inpt).__name__}")
        out = inpt.clone()
        fill = self.fill if out.dtype == torch.uint8 else self.fill / 255.0
        out[..., params["top"]:params["bottom"], params["left"]:params["right"]] = fill
        return out


class StretchAxis(T.Transform):
    """Stretch one axis by a factor uniform in [1 + lo, 1 + hi], then centre-crop or pad (black)
    back to the input size, so the aspect change survives a later resize."""

    def __init__(self, axis: str, rate: tuple[float, float]) -> None:
        super().__init__()
        check_choice("axis", axis, ("height", "width"))
        if not -1 < rate[0] <= rate[1]:
            raise ValueError(f"rate must satisfy -1 < lo <= hi, got {rate}")
        self.axis = axis
        self.rate = (float(rate[0]), float(rate[1]))

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        r = float(torch.empty(1).uniform_(*self.rate))
        return dict(factor=1.0 + r)

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        h, w = TF.get_size(inpt)
        if self.axis == "height":
            size = [max(1, int(round(h * params["factor"]))), w]
        else:
            size = [h, max(1, int(round(w * params["factor"])))]
        out = TF.resize(inpt, size, antialias=True)
        return TF.center_crop(out, [h, w])


def make_transform(name: str, image_size: int = PAPER_IMAGE_SIZE) -> Callable[[Any], Any]:
    """The transform ``name`` (one of ``TRANSFORMS``) with magnitudes for ``image_size`` px
    images. Takes and returns a CHW tensor; only random_crop changes the size."""
    check_choice("transform", name, TRANSFORMS)
    _scale(image_size)  # validates the size
    if name == "blur":
        return T.RandomChoice([T.GaussianBlur(k, sigma=(sig, sig))
                               for k, sig in blur_settings(image_size)])
    if name == "random_crop":
        return T.RandomCrop(crop_side(image_size))
    if name == "random_flip":
        return T.Compose([T.RandomHorizontalFlip(0.5), T.RandomVerticalFlip(0.5)])
    if name == "rotation":
        return T.RandomRotation(PAPER_RANGES["rotation"][1] * 360.0)
    if name == "translation":
        t = PAPER_RANGES["translation"][1]
        return T.RandomAffine(degrees=0, translate=(t, t))
    if name == "cutout":
        return Cutout(cutout_max_side(image_size))
    if name == "random_contrast":
        return T.ColorJitter(contrast=PAPER_RANGES["random_contrast"][1])
    if name == "random_height":
        return StretchAxis("height", PAPER_RANGES["random_height"])
    if name == "random_width":
        return StretchAxis("width", PAPER_RANGES["random_width"])
    if name == "random_zoom":
        return T.RandomAffine(degrees=0, scale=(1 + ZOOM_RANGE[0], 1 + ZOOM_RANGE[1]))
    raise AssertionError(f"{name!r} is in TRANSFORMS but has no constructor")  # pragma: no cover


def validate_names(names: Sequence[str]) -> tuple[str, ...]:
    """Check every name is a known transform; return them as a tuple."""
    if isinstance(names, str):
        raise TypeError(f"expected a sequence of transform names, got the string {names!r}")
    return tuple(check_choices("transforms", names, TRANSFORMS))


_OPERATIONS = {
    "blur": "RandomChoice of GaussianBlur (kernel, sigma)",
    "random_crop": "RandomCrop (resized back by ArrayDataset)",
    "random_flip": "RandomHorizontalFlip(0.5) + RandomVerticalFlip(0.5)",
    "rotation": "RandomRotation, black fill",
    "translation": "RandomAffine(translate), black fill",
    "cutout": "Cutout: grey square, clipped at the border",
    "random_contrast": "ColorJitter(contrast)",
    "random_height": "StretchAxis(height): resize + centre crop/pad",
    "random_width": "StretchAxis(width): resize + centre crop/pad",
    "random_zoom": "RandomAffine(scale), black fill",
}


def _range_used(name: str, image_size: int) -> str:
    if name == "blur":
        pairs = blur_settings(image_size)
        return ("kernel " + "/".join(str(k) for k, _ in pairs) + " px, sigma "
                + "/".join(f"{sig:.2f}" for _, sig in pairs) + " px")
    if name == "random_crop":
        side = crop_side(image_size)
        return f"{side} x {side} of {image_size} x {image_size} px"
    if name == "random_flip":
        return "h and v, p = 0.5 each"
    if name == "rotation":
        deg = PAPER_RANGES["rotation"][1] * 360.0
        return f"[-{deg:g}, {deg:g}] degrees"
    if name == "translation":
        t = PAPER_RANGES["translation"][1]
        return f"[-{t:g}, {t:g}] of the size"
    if name == "cutout":
        return f"side [0, {cutout_max_side(image_size)}] px"
    if name in ("random_contrast", "random_height", "random_width"):
        lo, hi = PAPER_RANGES[name]
        return f"factor [{1 + lo:g}, {1 + hi:g}]"
    if name == "random_zoom":
        return f"scale [{1 + ZOOM_RANGE[0]:g}, {1 + ZOOM_RANGE[1]:g}] (our choice)"
    raise ValueError(f"unknown transform {name!r}; choose from {list(TRANSFORMS)}")


def catalogue(image_size: int = PAPER_IMAGE_SIZE) -> pd.DataFrame:
    """One row per transform: name, operation, Table 1's range, the range used at
    ``image_size``, and whether Table 1 lists it."""
    rows = []
    for name in TRANSFORMS:
        paper = PAPER_RANGES[name]
        rows.append({
            "name": name,
            "operation": _OPERATIONS[name],
            "paper_range": "-" if paper is None else f"[{paper[0]:g}, {paper[1]:g}]",
            "range_used": _range_used(name, image_size),
            "in_table1": name != "random_zoom",
        })
    return pd.DataFrame(rows)


def catalogue_comparison(image_size: int) -> pd.DataFrame:
    """The catalogue as the transforms page shows it, one row per transform (headed
    "transform", names in words): its operation, Table 1's range as printed ("-": none printed),
    the range used at the paper's 224 px, the range used at ``image_size`` and whether Table 1
    lists it (yes/no)."""
    at_paper = catalogue(PAPER_IMAGE_SIZE).set_index("name")
    here = catalogue(image_size).set_index("name")
    out = pd.DataFrame({
        "operation": at_paper["operation"],
        "Table 1 range": at_paper["paper_range"],
        f"range at {PAPER_IMAGE_SIZE} px": at_paper["range_used"],
        f"range at {image_size} px (this run)": here["range_used"],
        "in Table 1": at_paper["in_table1"].map({True: "yes", False: "no"}),
    })
    out.index = pd.Index([n.replace("_", " ") for n in out.index], name="transform")
    if image_size == PAPER_IMAGE_SIZE:  # the same column twice says nothing
        out = out.drop(columns=f"range at {image_size} px (this run)")
    return out


def to_chw_tensor(image: np.ndarray | torch.Tensor) -> torch.Tensor:
    """An HxWx3 uint8 array (or a CHW tensor) as a uint8 CHW tensor."""
    if isinstance(image, torch.Tensor):
        return image
    arr = np.asarray(image)
    if arr.ndim != 3 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
        raise ValueError(f"expected a uint8 (H, W, 3) image, got {arr.dtype} {arr.shape}")
    return torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1)


def example_grid(image: np.ndarray | torch.Tensor, names: Sequence[str] = TRANSFORMS,
                 seed: int = 0, ncols: int = 4, panel_inches: float = 2.0) -> Any:
    """A matplotlib Figure: ``image`` (HxWx3 uint8 or CHW tensor) then each transform once,
    drawn with ``seed`` (the global torch RNG is left as it was)."""
    from matplotlib.figure import Figure

    names = validate_names(names)
    x = to_chw_tensor(image)
    size = min(x.shape[-2:])
    panels = [("original", x)]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        panels += [(n, make_transform(n, size)(x)) for n in names]
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(panel_inches * ncols, panel_inches * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, (title, img) in zip(axes.flat, panels):
        ax.imshow(img.permute(1, 2, 0).numpy())
        ax.set_title(title.replace("_", " "), fontsize=9)
    fig.tight_layout()
    return fig
