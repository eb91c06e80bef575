"""Model sizes for Fig. 5: parameters and multiply-adds of each backbone (this run's head and
input size, and ImageNet's reference resolution beside the paper's reference sizes), counted
once and kept in a cache; and whether a metric grows with model size."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .. import paper
from ..cache import DiskCache
from ..formatting import format_number
from ..storage import read_json
from .names import PAPER



def reference_input_size(model: str) -> int:
    """The ImageNet resolution of torchvision's weights for ``model`` (its metadata): 224 for
    B0, ResNet-50 and VGG-16, 240-456 for B1-B5. For B2 it is 288 where the EfficientNet
    paper's is 260, so B2's counted FLOPs run about 9 % above the reference. A network of
    :mod:`emo_lib.models.families` (no ImageNet weights): 224 scaled as its family scales."""
    import torchvision

    from ..models import families

    if model in families.CUSTOM_NAMES:
        return families.input_size_for(model, 224)

    return int(torchvision.models.get_model_weights(model).DEFAULT.transforms().crop_size[0])


@lru_cache(maxsize=None)
def _count(model: str, n_classes: int, input_size: int) -> tuple[float, float]:
    """(params_m, flops_b), kept on disk: counting B5 at 456 px takes seconds on a CPU."""
    import torchvision

    from ..models.zoo import build_backbone, count_params_flops

    store = DiskCache("model_sizes", code=(__name__,))   # the counter and the zoo it builds
    key = store.key({"model": model, "classes": n_classes, "input_size": input_size,
                     "torchvision": torchvision.__version__}, length=16)
    path = store.path(f"{model}-{n_classes}-{input_size}-{key}.json")
    cached = store.read(path, lambda p: tuple(float(read_json(p)[k])
                                              for k in ("params_m", "flops_b")))
    if cached is not None:
        return cached  # type: ignore[return-value]
    built = build_backbone(model, classes=[f"c{i}" for i in range(n_classes)],
                           input_size=input_size)
    c = count_params_flops(built.module, input_size)
    store.write_json(path, c)
    return c["params_m"], c["flops_b"]


def model_sizes(models: Sequence[str], n_classes: int, input_size: int,
                reference: bool = True) -> pd.DataFrame:
    """Parameters (millions) and multiply-adds (billions) per model: with this run's
    ``n_classes`` head at ``input_size``, and (``reference``) with ImageNet's 1000-class head at
    its reference resolution beside the sizes the original model papers give
    (``reference_params_m``, ``reference_flops_b``: paper_values ``reference_model_sizes``,
    NaN for models they do not list), which check the counter."""
    refs = paper.paper_value(f"{PAPER}.reference_model_sizes")
    from ..models.families import input_size_for

    rows = []
    for m in dict.fromkeys(models):
        size_m = input_size_for(m, input_size)   # a compound-scaled model's own resolution
        params, flops = _count(m, n_classes, size_m)
        row = {"model": m, "params_m": params, "flops_b": flops, "input_size": size_m}
        if reference:
            size = reference_input_size(m)
            p_ref, f_ref = _count(m, 1000, size)
            row.update(reference_input_size=size, params_m_imagenet=p_ref,
                       flops_b_imagenet=f_ref,
                       reference_params_m=refs.get(m, {}).get("params_m", np.nan),
                       reference_flops_b=refs.get(m, {}).get("flops_b", np.nan))
        rows.append(row)
    return pd.DataFrame(rows).set_index("model")


def scaling_trend(table: pd.DataFrame, metric: str = "macro_f1", method: str = "proposed",
                  x: str = "params_m") -> dict[str, Any]:
    """Does ``metric`` grow with model size among ``method``'s rows of a :func:`scaling_vs_paper`
    table (with sizes)? Spearman's rho against ``x``, whether it never falls from one model to
    the next larger, and the models in size order (the paper: "increases gradually" B0-B5);
    ``rho_text``: rho for prose, or why there is none."""
    from scipy.stats import spearmanr

    rows = table.xs(method, level="method").dropna(subset=[x, metric]).sort_values(x)
    if len(rows) < 2:
        return {"models": list(rows.index), "rho": float("nan"), "monotone": False,
                "n": len(rows), "rho_text": f"undefined ({len(rows)} model with the method)"}
    constant = rows[metric].nunique() < 2 or rows[x].nunique() < 2
    rho = float("nan") if constant else float(spearmanr(rows[x], rows[metric]).statistic)
    return {"models": list(rows.index), "rho": rho, "n": len(rows),
            "monotone": bool((rows[metric].diff().dropna() >= 0).all()),
            "rho_text": "undefined (no spread)" if constant else format_number(rho, 2)}


def family_note(models: Sequence[str], image_size: int = 64) -> str:
    """A sentence per compound-scaled model of ``models`` (:mod:`emo_lib.models.families`):
    its phi, depth / width / resolution multipliers and input side; "" when none is."""
    from ..models import families
    from .names import model_label

    scaled = [m for m in dict.fromkeys(models) if m in families.SCALED]
    if len(scaled) < 2:
        return ""
    parts = []
    for m in scaled:
        phi = families.SCALED[m]
        k = families.compound(phi)
        parts.append(f"{model_label(m)}: phi = {phi}, depth x{k['depth']:.2f}, width "
                     f"x{k['width']:.2f}, input {families.input_size_for(m, image_size)} px")
    return ("**The scaled family.** EfficientNet's compound scaling (depth x "
            f"{families.ALPHA}^phi, width x {families.BETA}^phi, resolution x "
            f"{families.GAMMA}^phi) applied to MobileNetV3-Small, which is phi = 0 and the "
            "reference model, as B0 is EfficientNet's: " + "; ".join(parts) + ".")


__all__ = ["family_note", "model_sizes", "reference_input_size", "scaling_trend"]
