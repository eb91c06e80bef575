"""Sampling who is photographed (age, gender, identity) and how (pose, light, background).

Age acts through *maturity*, 0 at age 2 and 1 from age 18 on: every face proportion in
``AGE_GEOMETRY`` moves from its child value to its adult value with maturity. The landmark
proportions come from :mod:`.reference` (real photographs for adults, growth studies for
children). Gender acts only
through appearance (jaw, brows, hair), scaled by maturity as sexual dimorphism is in life;
expressions do not depend on gender.
"""
from __future__ import annotations

import zlib
from typing import Any, Callable

import numpy as np

from ...validation import check_choice
from .expressions import Expression, prototype_aus, sample_expression
from .face import RGB, FaceSpec, Identity, Pose, Scene

#: Age ranges of each group in whole years: CAFE 2-8, NIMH-ChEFS 10-17, adults. A child
#: "aged 8" may be 8.9, so children and adolescents are drawn in [low, high + 1), adults in
#: [low, high).
AGE_RANGES: dict[str, tuple[float, float]] = {
    "child": (2.0, 8.0), "adolescent": (10.0, 17.0), "adult": (18.0, 65.0),
}
#: Maturity = ((age - MATURITY_AGES[0]) / (MATURITY_AGES[1] - MATURITY_AGES[0])) ** exponent.
MATURITY_AGES = (2.0, 18.0)
#: Below 1 the face matures early, so adolescents (maturity ~0.6-0.96) sit close to adults
#: while children (0-0.5) stay far from them.
MATURITY_EXPONENT = 0.7

#: Face proportions (child value at maturity 0, adult value at maturity 1).
#:
#: The landmark geometry (eye spacing, eye line to nose tip to mouth, mouth width, chin) is set
#: from :mod:`.reference`: adults so that the crops of ``emo_lib.faces`` frame them as 389 real
#: adult photographs are framed (eye-to-mouth / interocular 1.11, mouth width / interocular
#: 0.86, mouth to chin 0.77 interocular), children (at 5.5 years, maturity 0.345) by the growth
#: figures of farkas1992orbital and ferrario1998growth (interocular 89.4 %, eye-to-mouth 85.5 %,
#: mouth width and lower face 83.3 % of adult: eye-to-mouth / interocular 1.06, mouth width /
#: interocular 0.80). Interocular is 0.8 face half-widths at every age (``EYE_SPACING_RANGE``).
#: These are neutral-face values, set so that the presets' faces, expressions included (which
#: on average widen the mouth by about 1 % and shorten eye-to-mouth by about 1 %), measure the
#: targets on their crops (tests/test_synthetic.py checks it). Each child value at
#: maturity 0 is the extrapolation through the 5.5-year value: v0 = (v5.5 - 0.345 v1) / 0.655.
#: Beyond the landmarks children keep the drawing's other mechanisms: larger eyes and irises,
#: a slightly rounder face with the eyes a little lower in it, a smaller nose, smooth skin that
#: shows fewer furrows. Adolescents (10-17, maturity 0.62-1) follow the same interpolation,
#: close to adults, as the studies find the face mature at 13-15.
AGE_GEOMETRY: dict[str, tuple[float, float]] = {
    "face_aspect": (1.414, 1.49),      # face half-height / half-width (eye line to chin: 1.49)
    "face_half_width": (0.44, 0.42),   # frame units: the photo shows the head and shoulders
    "eye_line": (0.029, 0.00),         # eyes below the face centre, fraction of half-height
    "eye_size": (0.235, 0.19),         # eye half-width / face half-width
    "eye_open": (0.50, 0.40),          # lid opening / eye half-width
    "iris": (0.58, 0.50),              # iris radius / eye half-width
    "nose_length": (0.356, 0.396),     # eye line to nose tip / face half-height
    "nose_width": (0.16, 0.22),        # / face half-width
    "mouth_gap": (0.239, 0.204),       # nose tip to mouth / face half-height
    "mouth_width": (0.304, 0.341),     # mouth half-width / face half-width
    "lip_thickness": (0.050, 0.060),   # / face half-width
    "wrinkle": (0.30, 1.00),           # visibility of furrows (glabella, nose, nasolabial...)
    "jaw": (0.35, 0.55),               # squareness of the jaw (adult female value; see GENDER)
}

#: Gender appearance at full maturity, added to the adult value; scaled by maturity (children
#: barely differ except by hair).
GENDER_JAW = {"male": 0.20, "female": 0.0}              # squarer male jaw
GENDER_BROW_THICKNESS = {"male": 0.085, "female": 0.060}  # / face half-width
CHILD_BROW_THICKNESS = 0.055
GENDER_BROW_GAP = {"male": 0.22, "female": 0.27}        # brow above eye, lower-set male brows
CHILD_BROW_GAP = 0.27
GENDER_FACE_WIDTH = {"male": 0.015, "female": 0.0}       # slightly wider male face
#: Hair styles by gender (the strongest gender cue, as in photographs of people).
HAIR_STYLES: dict[str, dict[str, float]] = {
    "female": {"long": 0.45, "bun": 0.15, "fringe": 0.25, "short": 0.15},
    "male": {"short": 0.60, "buzz": 0.15, "fringe": 0.15, "long": 0.04, "bald": 0.06},
}
#: Bald only for adult men over this age (otherwise redrawn as short).
BALD_MIN_AGE = 35.0

#: Per-identity jitter (sd) of proportions, as a fraction of the value: people differ.
IDENTITY_JITTER = 0.05
#: Identity traits drawn uniformly: eye spacing (/ face half-width), hairline height
#: (above brows, / face half-width), hair volume (frame units).
EYE_SPACING_RANGE = (0.36, 0.44)
HAIRLINE_RANGE = (0.28, 0.42)
HAIR_VOLUME_RANGE = (0.03, 0.09)

#: Skin tone 0 (light) .. 1 (dark) is uniform; colours interpolate these anchors.
SKIN_ANCHORS: tuple[RGB, ...] = ((246, 218, 196), (228, 190, 158), (200, 150, 112),
                                 (152, 102, 70), (98, 64, 44))
HAIR_COLOURS: dict[str, RGB] = {
    "black": (28, 24, 24), "dark_brown": (62, 44, 34), "brown": (108, 74, 50),
    "blond": (196, 160, 100), "auburn": (138, 70, 42), "grey": (165, 162, 158),
}
IRIS_COLOURS: tuple[RGB, ...] = ((70, 45, 30), (110, 75, 45), (70, 110, 150), (80, 115, 80))
CLOTHES_COLOURS: tuple[RGB, ...] = ((60, 80, 120), (140, 40, 45), (50, 110, 80), (200, 200, 195),
                                    (40, 40, 45), (180, 150, 90), (110, 90, 140))
#: Grey hair possible from this age on (probability rising to GREY_MAX at 65).
GREY_FROM_AGE, GREY_MAX = 45.0, 0.5

#: Photograph conditions, the same for every age, gender and preset (so they carry no signal).
BACKGROUNDS: tuple[RGB, ...] = ((236, 236, 236), (200, 200, 200), (170, 184, 200),
                                (216, 206, 190), (190, 200, 184), (128, 128, 134))
BACKGROUND_JITTER = 6            # per image, grey levels
ROTATION_SD_DEG, ROTATION_MAX_DEG = 3.0, 8.0
SHIFT_SD, SHIFT_MAX = 0.025, 0.06    # frame units (frame = [-1, 1])
SCALE_RANGE = (0.94, 1.05)
LIGHT_STRENGTH_RANGE = (0.0, 0.25)
BRIGHTNESS_RANGE = (0.90, 1.06)
NOISE_SIGMA_RANGE = (1.0, 4.0)   # grey levels
#: Averted gaze (NIMH-ChEFS): irises shifted sideways by this fraction of the eye half-width.
GAZE_AVERT_SHIFT = 0.45


def maturity(age: float) -> float:
    """0 at age 2, 1 from age 18 on (see MATURITY_EXPONENT)."""
    lo, hi = MATURITY_AGES
    return float(np.clip((age - lo) / (hi - lo), 0.0, 1.0) ** MATURITY_EXPONENT)


def sample_age(age_group: str, rng: np.random.Generator) -> float:
    check_choice("age group", age_group, AGE_RANGES)
    lo, hi = AGE_RANGES[age_group]
    return round(float(rng.uniform(lo, hi + 1.0 if age_group != "adult" else hi)), 2)


def _lerp(pair: tuple[float, float], m: float) -> float:
    return pair[0] + (pair[1] - pair[0]) * m


def _skin(tone: float) -> RGB:
    x = tone * (len(SKIN_ANCHORS) - 1)
    i = min(int(x), len(SKIN_ANCHORS) - 2)
    t = x - i
    c0, c1 = SKIN_ANCHORS[i], SKIN_ANCHORS[i + 1]
    return (int(round(c0[0] + (c1[0] - c0[0]) * t)), int(round(c0[1] + (c1[1] - c0[1]) * t)),
            int(round(c0[2] + (c1[2] - c0[2]) * t)))


def sample_identity(age_group: str, gender: str, rng: np.random.Generator,
                    age: float | None = None,
                    geometry_age: Callable[[float], float] | None = None) -> Identity:
    """Draw one person of ``age_group`` and ``gender`` (``"male"``/``"female"``).

    ``geometry_age``: a function of the drawn age giving the age whose maturity shapes the
    face (:mod:`.mechanisms`' ``"geometry"``); hair, greying and the recorded age keep the
    drawn age. The random numbers drawn are the same either way."""
    check_choice("gender", gender, HAIR_STYLES)
    age = sample_age(age_group, rng) if age is None else float(age)
    m = maturity(age if geometry_age is None else geometry_age(age))
    # fixed order of draws: same seed, same person
    jit = 1.0 + rng.normal(0.0, IDENTITY_JITTER, len(AGE_GEOMETRY))
    geo = {k: _lerp(v, m) * jit[i] for i, (k, v) in enumerate(AGE_GEOMETRY.items())}
    geo["wrinkle"] = min(1.0, _lerp(AGE_GEOMETRY["wrinkle"], m))
    geo["jaw"] = float(np.clip(geo["jaw"] + GENDER_JAW[gender] * m, 0.0, 1.0))
    geo["face_half_width"] += GENDER_FACE_WIDTH[gender] * m
    brow_thick = _lerp((CHILD_BROW_THICKNESS, GENDER_BROW_THICKNESS[gender]), m)
    brow_gap = _lerp((CHILD_BROW_GAP, GENDER_BROW_GAP[gender]), m)
    brow_jit = rng.normal(0.0, IDENTITY_JITTER, 2)
    eye_spacing = rng.uniform(*EYE_SPACING_RANGE)
    hairline = rng.uniform(*HAIRLINE_RANGE)
    hair_volume = rng.uniform(*HAIR_VOLUME_RANGE)
    tone = float(rng.random())
    styles = HAIR_STYLES[gender]
    style = str(rng.choice(list(styles), p=np.array(list(styles.values())) / sum(styles.values())))
    if style == "bald" and (age_group != "adult" or age < BALD_MIN_AGE):
        style = "short"
    # darker skin: darker hair more likely; blond mostly with light skin
    hair_names = list(HAIR_COLOURS)
    w = np.array([0.2 + tone, 0.3 + 0.3 * tone, 0.3, max(0.02, 0.35 - 0.5 * tone),
                  max(0.01, 0.1 - 0.15 * tone), 0.0])
    hair = str(rng.choice(hair_names, p=w / w.sum()))
    grey_p = GREY_MAX * np.clip((age - GREY_FROM_AGE) / (AGE_RANGES["adult"][1] - GREY_FROM_AGE),
                                0.0, 1.0)
    if rng.random() < grey_p:
        hair = "grey"
    iris_w = np.array([0.4 + tone, 0.3, max(0.01, 0.3 - 0.4 * tone), max(0.01, 0.2 - 0.3 * tone)])
    iris = IRIS_COLOURS[int(rng.choice(len(IRIS_COLOURS), p=iris_w / iris_w.sum()))]
    clothes = CLOTHES_COLOURS[int(rng.integers(len(CLOTHES_COLOURS)))]
    skin = _skin(tone)
    lip = (min(255, int(skin[0] * 0.86 + 12)), int(skin[1] * 0.60), int(skin[2] * 0.62))
    return Identity(
        age=age, age_group=age_group, gender=gender,
        face_half_width=geo["face_half_width"], face_aspect=geo["face_aspect"], jaw=geo["jaw"],
        eye_line=geo["eye_line"], eye_spacing=eye_spacing, eye_size=geo["eye_size"],
        eye_open=geo["eye_open"], iris=geo["iris"],
        brow_thickness=brow_thick * (1 + brow_jit[0]), brow_gap=brow_gap * (1 + brow_jit[1]),
        nose_length=geo["nose_length"], nose_width=geo["nose_width"], mouth_gap=geo["mouth_gap"],
        mouth_width=geo["mouth_width"], lip_thickness=geo["lip_thickness"],
        wrinkle=geo["wrinkle"], skin_tone=round(tone, 4), skin_rgb=skin,
        hair_rgb=HAIR_COLOURS[hair], iris_rgb=iris, lip_rgb=lip, clothes_rgb=clothes,
        hair_style=style, hairline=hairline, hair_volume=hair_volume,
    )


def sample_background(rng: np.random.Generator) -> RGB:
    return BACKGROUNDS[int(rng.integers(len(BACKGROUNDS)))]


def sample_photo(rng: np.random.Generator, background: RGB | None = None) -> tuple[Pose, Scene]:
    """Pose, light, background (jittered around ``background`` if given) and noise."""
    z = rng.normal(0.0, 1.0, 3)
    u = rng.random(5)
    ints = rng.integers(-BACKGROUND_JITTER, BACKGROUND_JITTER + 1, 3).tolist()
    noise_seed = int(rng.integers(2**31))
    bg0 = sample_background(rng) if background is None else background
    rot = min(ROTATION_MAX_DEG, max(-ROTATION_MAX_DEG, float(z[0]) * ROTATION_SD_DEG))
    sx = min(SHIFT_MAX, max(-SHIFT_MAX, float(z[1]) * SHIFT_SD))
    sy = min(SHIFT_MAX, max(-SHIFT_MAX, float(z[2]) * SHIFT_SD))

    def between(lo_hi: tuple[float, float], v: float) -> float:
        return lo_hi[0] + (lo_hi[1] - lo_hi[0]) * float(v)

    bg = tuple(min(255, max(0, c + j)) for c, j in zip(bg0, ints))
    scene = Scene(background=bg,  # type: ignore[arg-type]
                  light_angle=2 * np.pi * float(u[0]),
                  light_strength=between(LIGHT_STRENGTH_RANGE, u[1]),
                  brightness=between(BRIGHTNESS_RANGE, u[2]),
                  noise_sigma=between(NOISE_SIGMA_RANGE, u[3]), noise_seed=noise_seed)
    return Pose(rotation=rot, shift_x=sx, shift_y=sy, scale=between(SCALE_RANGE, u[4])), scene


def averted_gaze(rng: np.random.Generator) -> tuple[float, float]:
    """Irises shifted left or right (NIMH-ChEFS' averted-gaze pictures)."""
    return (GAZE_AVERT_SHIFT * (1.0 if rng.random() < 0.5 else -1.0), 0.0)


def population_constants() -> dict[str, Any]:
    """The appearance mechanisms as plain data (for manifest meta and the book)."""
    return {
        "age_ranges": AGE_RANGES, "maturity_ages": MATURITY_AGES,
        "maturity_exponent": MATURITY_EXPONENT, "age_geometry": AGE_GEOMETRY,
        "gender_jaw": GENDER_JAW, "gender_brow_thickness": GENDER_BROW_THICKNESS,
        "child_brow_thickness": CHILD_BROW_THICKNESS, "gender_brow_gap": GENDER_BROW_GAP,
        "child_brow_gap": CHILD_BROW_GAP, "gender_face_width": GENDER_FACE_WIDTH,
        "hair_styles": HAIR_STYLES, "bald_min_age": BALD_MIN_AGE,
        "identity_jitter": IDENTITY_JITTER, "rotation_sd_deg": ROTATION_SD_DEG,
        "rotation_max_deg": ROTATION_MAX_DEG, "shift_sd": SHIFT_SD, "scale_range": SCALE_RANGE,
        "light_strength_range": LIGHT_STRENGTH_RANGE, "brightness_range": BRIGHTNESS_RANGE,
        "noise_sigma_range": NOISE_SIGMA_RANGE, "gaze_avert_shift": GAZE_AVERT_SHIFT,
    }


def sample_face(label: str, age_group: str = "adult", gender: str = "female", seed: int = 0,
                mouth: str = "default", gaze: str = "direct", intensity: float | None = None,
                variant: int = 0) -> tuple[FaceSpec, Expression]:
    """One face drawn with the generator's mechanisms (for galleries and tests).

    The person and the photograph depend only on ``(seed, age_group, gender)``, so a gallery
    can show one identity in every expression; the expression also depends on ``label`` and
    ``variant``.

    Args:
        gaze: ``"direct"`` or ``"averted"``.
        intensity: if given, the noiseless prototype at this intensity replaces the sampled
            expression (to show the prototypes themselves).
    Returns:
        (spec for :func:`~emo_lib.data.synthetic.face.render_face`, the expression drawn).
    """
    check_choice("gaze", gaze, ("direct", "averted"))
    identity = sample_identity(age_group, gender, np.random.default_rng([seed, 7]))
    photo_rng = np.random.default_rng([seed, 8])
    pose, scene = sample_photo(photo_rng)
    g = averted_gaze(photo_rng) if gaze == "averted" else (0.0, 0.0)
    if intensity is not None:
        expr = Expression(label=label, aus=prototype_aus(label, intensity),
                          intensity=float(intensity), mouth=mouth)
    else:
        stream = zlib.crc32(label.encode())   # a fixed per-label number (str hash is salted)
        rng = np.random.default_rng([seed, 9, stream, variant])
        expr = sample_expression(label, age_group, rng, mouth=mouth)
    return FaceSpec(identity=identity, aus=expr.aus, gaze=g, pose=pose, scene=scene), expr
