"""Facial action units (FACS), the EMFACS-style prototype of each expression, and how an
expression is sampled for a person of a given age group.

An expression is a dict ``AU name -> (right, left)``: continuous activations in [0, 1] for the
subject's right side (the image's left in a frontal photo) and left side. Most AUs are
bilateral; contempt is the unilateral R12+R14.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Mapping

import numpy as np

from ...validation import check_choice

#: The action units the generator draws, with what each one moves.
AU_DESCRIPTIONS: dict[str, str] = {
    "AU1": "inner brow raiser",
    "AU2": "outer brow raiser",
    "AU4": "brow lowerer (brows down and together, glabella lines)",
    "AU5": "upper lid raiser (eyes wide, white above the iris)",
    "AU6": "cheek raiser (lower lid up, cheeks raised, crow's feet)",
    "AU7": "lid tightener (lids narrowed, lower lid straight)",
    "AU9": "nose wrinkler (wrinkles on the bridge, nostrils up, inner brows down)",
    "AU10": "upper lip raiser (upper lip up, upper teeth shown)",
    "AU12": "lip corner puller (corners up and out)",
    "AU14": "dimpler (corner tucked in, dimple)",
    "AU15": "lip corner depressor (corners down)",
    "AU16": "lower lip depressor (lower lip down, lower teeth shown)",
    "AU17": "chin raiser (lower lip pushed up, chin boss)",
    "AU20": "lip stretcher (corners pulled sideways, lips flattened)",
    "AU23": "lip tightener (lips narrowed and thinned)",
    "AU24": "lip presser (lips pressed thin)",
    "AU25": "lips part",
    "AU26": "jaw drop",
    "AU27": "mouth stretch (wide-open jaw)",
}
AU_NAMES: tuple[str, ...] = tuple(AU_DESCRIPTIONS)

#: Per-emotion prototypes (EMFACS-style): AU -> activation at full intensity. A float is
#: bilateral; a pair is (right, left). Weights follow the FACS intensity letters loosely
#: (A trace ... E maximum); trace-level units are drawn stronger than "A" so they remain visible
#: at 96 px. Extra units beyond the brief's list are marked: they are the usual companions.
PROTOTYPES: dict[str, dict[str, float | tuple[float, float]]] = {
    "angry": {"AU4": 1.0, "AU5": 0.6, "AU7": 0.8, "AU23": 0.9},
    # 9+15+16 with the 10 variant; AU16 comes with parted lips (AU25).
    "disgust": {"AU9": 1.0, "AU10": 0.6, "AU15": 0.6, "AU16": 0.5, "AU25": 0.3},
    # AU25 accompanies AU26 (lips parted when the jaw drops).
    "fear": {"AU1": 0.9, "AU2": 0.6, "AU4": 0.6, "AU5": 1.0, "AU7": 0.4, "AU20": 1.0,
             "AU25": 0.6, "AU26": 0.5},
    # AU25 (teeth shown) is the usual companion of a full smile.
    "happy": {"AU6": 0.9, "AU12": 1.0, "AU25": 0.4},
    "neutral": {},
    "sad": {"AU1": 1.0, "AU4": 0.7, "AU15": 0.9},
    # 5B: upper lids raised at "B" (slight) intensity.
    "surprise": {"AU1": 1.0, "AU2": 1.0, "AU5": 0.4, "AU25": 1.0, "AU26": 1.0},
    # R12A + R14A: unilateral, subject's right only; drawn at moderate strength (see above).
    "contempt": {"AU12": (0.5, 0.0), "AU14": (0.7, 0.0)},
}

#: The expression a blend borrows from: the neighbour most often confused with it (shared
#: action units or adjacent in valence/arousal).
NEIGHBOURS: dict[str, str] = {
    "angry": "disgust", "disgust": "angry", "fear": "surprise", "surprise": "fear",
    "happy": "surprise", "sad": "fear", "neutral": "sad", "contempt": "happy",
}


@dataclass(frozen=True)
class ExpressionStyle:
    """How stereotyped one age group's posed expressions are (the age mechanism of expressions).

    Attributes:
        intensity_mean, intensity_sd: expression intensity (scales every prototype AU),
            clipped to [INTENSITY_MIN, 1].
        au_noise_sd: per-AU Gaussian jitter added after scaling (less stereotyped faces).
        au_dropout: chance that each prototype AU is missing (at least one is always kept).
        asymmetry_sd: per-side jitter of each bilateral AU.
        blend_prob: chance of blending in the neighbouring expression.
        blend_weight: (low, high) of the uniform weight of that neighbour (times intensity).
        spurious_sd: |N(0, sd)| activation of every non-prototype AU (restless faces).
    """

    intensity_mean: float
    intensity_sd: float
    au_noise_sd: float
    au_dropout: float
    asymmetry_sd: float
    blend_prob: float
    blend_weight: tuple[float, float]
    spurious_sd: float


#: The age mechanism of expressions. Children (2-8) pose weaker, noisier, less complete and
#: more often blended expressions than adults; adolescents (10-17) sit close to adults.
EXPRESSION_BY_AGE: dict[str, ExpressionStyle] = {
    "child": ExpressionStyle(intensity_mean=0.60, intensity_sd=0.20, au_noise_sd=0.18,
                             au_dropout=0.25, asymmetry_sd=0.10, blend_prob=0.25,
                             blend_weight=(0.2, 0.5), spurious_sd=0.06),
    "adolescent": ExpressionStyle(intensity_mean=0.78, intensity_sd=0.13, au_noise_sd=0.09,
                                  au_dropout=0.06, asymmetry_sd=0.05, blend_prob=0.08,
                                  blend_weight=(0.2, 0.4), spurious_sd=0.03),
    "adult": ExpressionStyle(intensity_mean=0.85, intensity_sd=0.10, au_noise_sd=0.06,
                             au_dropout=0.02, asymmetry_sd=0.03, blend_prob=0.04,
                             blend_weight=(0.2, 0.4), spurious_sd=0.02),
}
#: Lowest expression intensity drawn (an expression never vanishes entirely).
INTENSITY_MIN = 0.15

#: Mouth variants (CAFE poses most expressions with the mouth open and closed). "open" makes
#: sure the lips part (AU25 >= OPEN_LIPS) and the jaw drops a little (AU26 >= OPEN_JAW x
#: intensity); "closed" removes AU16/25/26/27 and weakens AU10 by CLOSED_AU10_FACTOR.
OPEN_LIPS = 0.6
OPEN_JAW = 0.35
CLOSED_AU10_FACTOR = 0.3


def _pair(value: float | tuple[float, float]) -> tuple[float, float]:
    if np.isscalar(value):
        return (float(value), float(value))
    return (float(value[0]), float(value[1]))


def prototype_aus(label: str, intensity: float = 1.0) -> dict[str, tuple[float, float]]:
    """The noiseless prototype of ``label`` at ``intensity``: AU -> (right, left)."""
    check_choice("expression", label, PROTOTYPES)
    return {au: (min(1.0, r * intensity), min(1.0, lft * intensity))
            for au, (r, lft) in ((au, _pair(v)) for au, v in PROTOTYPES[label].items())}


@dataclass(frozen=True)
class Expression:
    """A sampled expression: the AUs to draw and how they came about."""

    label: str
    aus: dict[str, tuple[float, float]]
    intensity: float
    blend: str = "none"      # the neighbour blended in, or "none"
    mouth: str = "default"   # "open" / "closed" when a preset asks for it


def _matrix(proto: Mapping[str, float | tuple[float, float]]) -> np.ndarray:
    m = np.zeros((len(AU_NAMES), 2))
    for au, v in proto.items():
        m[AU_NAMES.index(au)] = _pair(v)
    return m


_PROTO_MATRIX: dict[str, np.ndarray] = {k: _matrix(v) for k, v in PROTOTYPES.items()}
_I10, _I16, _I25, _I26, _I27 = (AU_NAMES.index(a) for a in ("AU10", "AU16", "AU25", "AU26", "AU27"))


def sample_expression(label: str, age_group: str, rng: np.random.Generator,
                      mouth: str = "default", style: ExpressionStyle | None = None) -> Expression:
    """Draw an expression of ``label`` as posed by someone of ``age_group``.

    Args:
        mouth: ``"open"``, ``"closed"`` or ``"default"`` (the prototype's own mouth).
        style: overrides ``EXPRESSION_BY_AGE[age_group]``.
    """
    if style is None:
        check_choice("age group", age_group, EXPRESSION_BY_AGE)
        style = EXPRESSION_BY_AGE[age_group]
    check_choice("mouth", mouth, ("open", "closed", "default"))
    check_choice("expression", label, PROTOTYPES)
    proto = _PROTO_MATRIX[label]
    n = len(AU_NAMES)
    # every random number drawn in a fixed order: a seed gives the same face whatever the AUs
    intensity = min(1.0, max(INTENSITY_MIN, float(rng.normal(style.intensity_mean,
                                                             style.intensity_sd))))
    noise = rng.normal(0.0, 1.0, (n, 3))
    jitter = noise[:, :1] * style.au_noise_sd + noise[:, 1:] * style.asymmetry_sd
    u = rng.random(n + 2)
    spurious = np.abs(rng.normal(0.0, style.spurious_sd, (n, 2)))

    in_proto = proto.max(axis=1) > 0
    kept = in_proto & (u[:n] >= style.au_dropout)
    if in_proto.any() and not kept.any():   # never drop the whole expression
        kept[int(np.argmax(proto.max(axis=1)))] = True
    # jitter only the sides the prototype moves (contempt stays unilateral)
    act = np.where((proto > 0) & kept[:, None], proto * intensity + jitter, 0.0)
    blend = "none"
    if u[n] < style.blend_prob:
        blend = NEIGHBOURS[label]
        weight = style.blend_weight[0] + u[n + 1] * (style.blend_weight[1] - style.blend_weight[0])
        np.maximum(act, _PROTO_MATRIX[blend] * (weight * intensity), out=act)
    act = np.clip(act + spurious, 0.0, 1.0)
    if mouth == "closed":
        act[[_I16, _I25, _I26, _I27]] = 0.0
        act[_I10] *= CLOSED_AU10_FACTOR
    elif mouth == "open":
        np.maximum(act[_I25], OPEN_LIPS, out=act[_I25])
        np.maximum(act[_I26], OPEN_JAW * intensity, out=act[_I26])
    values = np.round(act, 4).tolist()
    aus = {au: (v[0], v[1]) for au, v in zip(AU_NAMES, values) if v[0] > 0 or v[1] > 0}
    return Expression(label=label, aus=aus, intensity=round(intensity, 4), blend=blend,
                      mouth=mouth)


def expression_constants() -> dict[str, object]:
    """The expression mechanisms as plain data (for manifest meta and the book)."""
    return {
        "prototypes": {k: {au: list(_pair(v)) for au, v in p.items()}
                       for k, p in PROTOTYPES.items()},
        "neighbours": dict(NEIGHBOURS),
        "by_age": {g: asdict(s) for g, s in EXPRESSION_BY_AGE.items()},
        "intensity_min": INTENSITY_MIN,
        "open_lips": OPEN_LIPS, "open_jaw": OPEN_JAW, "closed_au10_factor": CLOSED_AU10_FACTOR,
    }

