"""Drawing one frontal face from a :class:`FaceSpec`.

Geometry is computed in *frame units* (the square image spans [-1, 1] on both axes, y down).
Every shape is a polygon or polyline (ellipses included), queued, moved by the in-plane pose in
one batch, and drawn with PIL at ``SUPERSAMPLE`` times the target size, then box-downscaled for
anti-aliasing. So the pose moves drawing and landmarks together and exactly.

Side convention: index 0 is the subject's right (the image's left in a frontal photo), 1 the
subject's left; ``out`` is -1 / +1, the image direction away from the midline on that side.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
from PIL import Image, ImageDraw

RGB = tuple[int, int, int]

#: Drawing resolution factor: shapes are drawn at SUPERSAMPLE x size, then box-downscaled.
SUPERSAMPLE = 2

#: Fixed colours (not identity traits).
SCLERA: RGB = (238, 236, 230)
PUPIL: RGB = (20, 16, 16)
LASH: RGB = (35, 28, 28)
MOUTH_INSIDE: RGB = (70, 22, 28)
TEETH: RGB = (236, 232, 218)
CHEEK_FLUSH: RGB = (205, 120, 115)


@dataclass(frozen=True)
class Identity:
    """One person's appearance. Lengths are fractions of the face half-width ``a`` unless noted.

    See :mod:`emo_lib.data.synthetic.population` for how age and gender set these.
    """

    age: float
    age_group: str
    gender: str
    face_half_width: float = 0.42   # a, in frame units
    face_aspect: float = 1.49       # b / a (face half-height over half-width)
    jaw: float = 0.6                # 0 round chin .. 1 square jaw
    center_y: float = -0.10         # face centre, frame units (the face crop's centre near 0)
    eye_line: float = 0.0           # eye centres below the face centre, fraction of b
    eye_spacing: float = 0.40       # half the distance between eye centres
    eye_size: float = 0.19          # eye half-width
    eye_open: float = 0.40          # lid half-opening, fraction of eye half-width
    iris: float = 0.50              # iris radius, fraction of eye half-width
    brow_thickness: float = 0.07
    brow_gap: float = 0.26          # brow above the eye centre
    nose_length: float = 0.396      # eye line to nose tip, fraction of b
    nose_width: float = 0.22
    mouth_gap: float = 0.204        # nose tip to mouth line, fraction of b
    mouth_width: float = 0.341      # mouth half-width
    lip_thickness: float = 0.06
    wrinkle: float = 1.0            # 0..1: how visible furrows and wrinkles are
    skin_tone: float = 0.3          # 0 light .. 1 dark
    skin_rgb: RGB = (224, 187, 155)
    hair_rgb: RGB = (65, 45, 35)
    iris_rgb: RGB = (90, 60, 40)
    lip_rgb: RGB = (180, 100, 95)
    clothes_rgb: RGB = (60, 80, 120)
    hair_style: str = "short"       # short, buzz, fringe, long, bun, bald
    hairline: float = 0.30          # hairline above the brows
    hair_volume: float = 0.06       # hair thickness beyond the skull, frame units


@dataclass(frozen=True)
class Pose:
    """Small in-plane pose: rotation (degrees, counter-clockwise on screen), shift (frame
    units) and scale about the frame centre."""

    rotation: float = 0.0
    shift_x: float = 0.0
    shift_y: float = 0.0
    scale: float = 1.0


@dataclass(frozen=True)
class Scene:
    """Background, lighting gradient and pixel noise."""

    background: RGB = (200, 200, 200)
    light_angle: float = 0.0       # radians; the side the light comes from
    light_strength: float = 0.0    # relative brightness change from frame centre to edge
    brightness: float = 1.0
    noise_sigma: float = 0.0       # standard deviation of the pixel noise, grey levels
    noise_seed: int = 0


@dataclass(frozen=True)
class FaceSpec:
    """Everything :func:`render_face` needs: who, which expression, how photographed.

    ``aus`` maps an action unit (``"AU12"``) to its (right, left) activation in [0, 1], right
    being the subject's right (the image's left). ``gaze`` shifts the irises, in eye
    half-widths (x right, y down).
    """

    identity: Identity
    aus: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    gaze: tuple[float, float] = (0.0, 0.0)
    pose: Pose = field(default_factory=Pose)
    scene: Scene = field(default_factory=Scene)


# --------------------------------------------------------------------------------------------
# colours and point sets


def _mix(c1: RGB, c2: RGB, t: float) -> RGB:
    """Colour ``t`` of the way from ``c1`` to ``c2`` (PIL cannot alpha-blend on RGB images)."""
    t = min(max(t, 0.0), 1.0)
    return (int(c1[0] + (c2[0] - c1[0]) * t + 0.5), int(c1[1] + (c2[1] - c1[1]) * t + 0.5),
            int(c1[2] + (c2[2] - c1[2]) * t + 0.5))


def _shade(c: RGB, f: float) -> RGB:
    return (min(255, int(c[0] * f + 0.5)), min(255, int(c[1] * f + 0.5)),
            min(255, int(c[2] * f + 0.5)))


_CIRCLES: dict[int, tuple[np.ndarray, np.ndarray]] = {}
_CURVES: dict[tuple[int, float], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
#: Indices of a 16-point ellipse: its right half (x > 0) and left half, top to bottom.
_HALF_RIGHT = [12, 13, 14, 15, 0, 1, 2, 3, 4]
_HALF_LEFT = [12, 11, 10, 9, 8, 7, 6, 5, 4]


def _circle(n: int) -> tuple[np.ndarray, np.ndarray]:
    if n not in _CIRCLES:
        t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
        _CIRCLES[n] = (np.cos(t), np.sin(t))
    return _CIRCLES[n]


def _ellipse(cx: float, cy: float, rx: float, ry: float, n: int = 24) -> np.ndarray:
    cos, sin = _circle(n)
    out = np.empty((n, 2))
    out[:, 0] = cx + rx * cos
    out[:, 1] = cy + ry * sin
    return out


def _curve(x0: float, y0: float, x1: float, y1: float, ymid: float, n: int = 9,
           power: float = 2.0) -> np.ndarray:
    """A lid/lip-like curve from (x0, y0) to (x1, y1) whose middle point is at height ymid:
    y = corner + (ymid - corner) * (1 - |u|^power), each half bending towards its own corner."""
    key = (n, power)
    if key not in _CURVES:
        u = np.linspace(-1.0, 1.0, n)
        _CURVES[key] = (u, (u < 0).astype(float), 1.0 - np.abs(u) ** power)
    u, neg, w = _CURVES[key]
    out = np.empty((n, 2))
    out[:, 0] = 0.5 * (x0 + x1) + u * (0.5 * (x1 - x0))
    out[:, 1] = y1 + neg * (y0 - y1)
    out[:, 1] += (ymid - out[:, 1]) * w
    return out


class _Canvas:
    """Queues frame-unit shapes; ``finish`` applies the pose to all points at once and draws
    them in order on a supersampled PIL image."""

    def __init__(self, size: int, pose: Pose) -> None:
        self.size = size
        self.s = size * SUPERSAMPLE
        th = math.radians(pose.rotation)
        half = self.s / 2.0
        k = pose.scale * half
        # frame units -> supersampled pixel indices: rotate/scale about the centre, then shift
        self.m = np.array([[k * math.cos(th), -k * math.sin(th)],
                           [k * math.sin(th), k * math.cos(th)]])
        self.t = np.array([half + pose.shift_x * half - 0.5, half + pose.shift_y * half - 0.5])
        self._pts: list[np.ndarray] = []
        self._ops: list[tuple[bool, int, RGB, int]] = []   # (is_line, n_points, colour, width)

    def px(self, pts: np.ndarray) -> np.ndarray:
        return pts @ self.m + self.t

    def poly(self, pts: np.ndarray, fill: RGB) -> None:
        self._pts.append(pts)
        self._ops.append((False, len(pts), fill, 0))

    def line(self, pts: np.ndarray, fill: RGB, width: float) -> None:
        """A polyline ``width`` frame units wide (at least one supersampled pixel)."""
        self._pts.append(pts)
        self._ops.append((True, len(pts), fill, max(1, int(width * self.s / 2.0 + 0.5))))

    def finish(self, background: RGB) -> Image.Image:
        image = Image.new("RGB", (self.s, self.s), background)
        draw = ImageDraw.Draw(image)
        flat = self.px(np.concatenate(self._pts)).ravel().tolist()
        i = 0
        for is_line, n, colour, width in self._ops:
            xy = flat[i:i + 2 * n]
            i += 2 * n
            if is_line:
                draw.line(xy, fill=colour, width=width, joint="curve" if width > 2 else None)
            else:
                draw.polygon(xy, fill=colour)
        return image


def _pts(*xy: tuple[float, float]) -> np.ndarray:
    return np.array(xy, dtype=float)


# --------------------------------------------------------------------------------------------
# the face, region by region


@dataclass
class _Layout:
    """Where the parts of this face sit (frame units), and the expression's activations."""

    a: float
    b: float
    cy: float
    eye_y: float
    nose_y: float
    mouth_y: float
    brow_y: float
    chin_drop: float
    au: dict[str, tuple[float, float]]

    def side(self, name: str, s: int) -> float:
        v = self.au.get(name)
        return 0.0 if v is None else v[s]

    def mean(self, name: str) -> float:
        v = self.au.get(name)
        return 0.0 if v is None else 0.5 * (v[0] + v[1])


def _layout(spec: FaceSpec) -> _Layout:
    idn = spec.identity
    au = {k: (float(v[0]), float(v[1])) if not np.isscalar(v) else (float(v), float(v))
          for k, v in spec.aus.items()}
    a = idn.face_half_width
    b = a * idn.face_aspect
    eye_y = idn.center_y + idn.eye_line * b
    nose_y = eye_y + idn.nose_length * b
    lay = _Layout(a=a, b=b, cy=idn.center_y, eye_y=eye_y, nose_y=nose_y,
                  mouth_y=nose_y + idn.mouth_gap * b, brow_y=eye_y - idn.brow_gap * a,
                  chin_drop=0.0, au=au)
    # AU26/27: the jaw drops, moving the chin and the lower lip down
    lay.chin_drop = a * (0.10 * lay.mean("AU26") + 0.22 * lay.mean("AU27"))
    return lay


def _face_outline(lay: _Layout, jaw: float, n: int = 40) -> np.ndarray:
    """Superellipse head: a rounder upper half, a lower half squarer with ``jaw``."""
    cos, sin = _circle(n)
    p = np.where(sin > 0, 2.0 + 1.4 * jaw, 2.2)
    out = np.empty((n, 2))
    out[:, 0] = lay.a * np.sign(cos) * np.abs(cos) ** (2.0 / p)
    y = lay.cy + lay.b * np.sign(sin) * np.abs(sin) ** (2.0 / p)
    if lay.chin_drop:
        chin = lay.cy + lay.b
        y = y + lay.chin_drop * np.clip((y - lay.mouth_y) / max(chin - lay.mouth_y, 1e-6), 0, 1)
    out[:, 1] = y
    return out


def _draw_body(c: _Canvas, idn: Identity, lay: _Layout) -> None:
    a, b, cy = lay.a, lay.b, lay.cy
    skin = idn.skin_rgb
    if idn.hair_style == "long":   # hair falling behind the head to the shoulders
        t = np.linspace(np.pi, 2 * np.pi, 17)
        w, bottom = a + idn.hair_volume + 0.04, cy + b + 0.3
        arc = np.stack([w * np.cos(t), cy + (b + idn.hair_volume) * np.sin(t)], axis=1)
        sides = _pts((w + 0.06, cy + 0.5 * b), (w + 0.10, bottom - 0.1), (w - 0.05, bottom),
                     (-w + 0.05, bottom), (-w - 0.10, bottom - 0.1), (-w - 0.06, cy + 0.5 * b))
        c.poly(np.vstack([arc, sides]), _shade(idn.hair_rgb, 0.92))
    elif idn.hair_style == "bun":
        c.poly(_ellipse(0.0, cy - b - 0.02, 0.36 * a, 0.26 * a, 20), _shade(idn.hair_rgb, 0.9))
    neck_w = 0.42 * a
    c.poly(_pts((-neck_w, cy + 0.5 * b), (neck_w, cy + 0.5 * b), (neck_w, 1.3), (-neck_w, 1.3)),
           _shade(skin, 0.82))
    sh_y = cy + b + 0.10 + lay.chin_drop
    c.poly(_pts((-neck_w * 1.1, sh_y), (neck_w * 1.1, sh_y), (1.3, sh_y + 0.25), (1.3, 1.3),
                (-1.3, 1.3), (-1.3, sh_y + 0.25)), idn.clothes_rgb)
    ear_y = lay.eye_y + 0.25 * (lay.nose_y - lay.eye_y)
    for out in (-1.0, 1.0):
        c.poly(_ellipse(out * a * 0.97, ear_y, 0.13 * a, 0.55 * (lay.nose_y - lay.eye_y) + 0.02,
                        16), _shade(skin, 0.92))
    c.poly(_face_outline(lay, idn.jaw), skin)


def _draw_eyes_and_brows(c: _Canvas, idn: Identity, lay: _Layout,
                         gaze: tuple[float, float]) -> list[tuple[float, float]]:
    """Lids (AU5, AU6, AU7, AU4), irises, brows (AU1, AU2, AU4, AU9), crow's feet (AU6).
    Returns the eye centres (image left, image right)."""
    a, eye_y, skin, wr = lay.a, lay.eye_y, idn.skin_rgb, idn.wrinkle
    e = idn.eye_size * a
    h0 = idn.eye_open * e
    r_iris = idn.iris * e
    tilt = 0.08 * h0   # outer corners slightly higher than inner ones
    crease_colour, lower_colour = _shade(skin, 0.78), _shade(skin, 0.8)
    brow_colour = _mix(idn.hair_rgb, skin, 0.15)
    centres = []
    for s, out in ((0, -1.0), (1, 1.0)):
        ex = out * idn.eye_spacing * a
        centres.append((ex, eye_y))
        a1, a2, a4 = lay.side("AU1", s), lay.side("AU2", s), lay.side("AU4", s)
        a5, a6 = lay.side("AU5", s), lay.side("AU6", s)
        a7, a9 = lay.side("AU7", s), lay.side("AU9", s)
        hu = h0 * max(0.15, 1.0 + 0.65 * a5 - 0.30 * a7 - 0.15 * a6 - 0.15 * a4)
        hl = 0.8 * h0 * max(0.12, 1.0 - 0.50 * a6 - 0.45 * a7 + 0.15 * a5)
        # corners left to right in the image; the outer one is higher
        x0, x1 = ex - e, ex + e
        y0 = eye_y - (tilt if out < 0 else 0.0)
        y1 = eye_y - (tilt if out > 0 else 0.0)
        upper = _curve(x0, y0, x1, y1, eye_y - hu, 11, 2.0)
        lower = _curve(x0, y0, x1, y1, eye_y + hl, 11, 2.2)
        c.poly(np.vstack([upper, lower[::-1]]), SCLERA)
        gx, gy = ex + gaze[0] * e, eye_y + gaze[1] * e
        c.poly(_ellipse(gx, gy, r_iris, r_iris, 20), idn.iris_rgb)
        c.poly(_ellipse(gx, gy, 0.45 * r_iris, 0.45 * r_iris, 12), PUPIL)
        # skin over the iris outside the lids
        xl, xr = x0 - 0.01, x1 + 0.01
        top = min(eye_y - hu, gy - r_iris) - 0.02
        bot = max(eye_y + hl, gy + r_iris) + 0.02
        c.poly(np.vstack([upper, _pts((xr, y1), (xr, top), (xl, top), (xl, y0))]), skin)
        c.poly(np.vstack([lower, _pts((xr, y1), (xr, bot), (xl, bot), (xl, y0))]), skin)
        crease = upper[2:-2].copy()
        crease[:, 1] -= 0.35 * h0 + 0.2 * (hu - h0)
        c.line(crease, crease_colour, 0.008 * a)
        c.line(lower, lower_colour, 0.010 * a)
        c.line(upper, LASH, 0.028 * a)
        xo = ex + out * e
        if a6 * wr > 0.08:   # crow's feet
            col = _mix(skin, _shade(skin, 0.6), 0.8 * a6 * wr)
            for dy in (-0.05, 0.0, 0.05):
                c.line(_pts((xo + out * 0.03 * a, eye_y + dy * a),
                            (xo + out * 0.12 * a, eye_y + 1.6 * dy * a)), col, 0.012 * a)
        # brow: inner end, middle, outer end
        y_in = lay.brow_y - 0.13 * a * a1 + 0.09 * a * a4 + 0.04 * a * a9
        y_mid = lay.brow_y - 0.05 * a - 0.07 * a * a1 - 0.09 * a * a2 + 0.07 * a * a4
        y_out = lay.brow_y + 0.02 * a - 0.13 * a * a2 - 0.02 * a * a1 + 0.04 * a * a4
        x_in = ex - out * (1.05 * e - 0.05 * a * a4)   # AU4 draws the brows together
        x_out = ex + out * 1.25 * e
        thick = idn.brow_thickness * a * _BROW_TAPER
        if out < 0:   # image-left brow: outer end first
            top_edge = _curve(x_out, y_out, x_in, y_in, y_mid, 9, 1.6)
            thick = thick[::-1]
        else:
            top_edge = _curve(x_in, y_in, x_out, y_out, y_mid, 9, 1.6)
        bottom_edge = top_edge[::-1].copy()
        bottom_edge[:, 1] += thick[::-1]
        c.poly(np.vstack([top_edge, bottom_edge]), brow_colour)
    return centres


_BROW_TAPER = np.linspace(1.0, 0.45, 9)


def _draw_upper_wrinkles(c: _Canvas, idn: Identity, lay: _Layout) -> None:
    """Glabella lines (AU4) and forehead lines (AU1/AU2), fainter on children."""
    a, skin, wr = lay.a, idn.skin_rgb, idn.wrinkle
    dark = _shade(skin, 0.55)
    a4 = lay.mean("AU4")
    if a4 * wr > 0.08:
        col = _mix(skin, dark, 0.8 * a4 * wr)
        y = lay.brow_y + 0.09 * a * a4
        for out in (-1.0, 1.0):
            c.line(_pts((out * 0.05 * a, y - 0.03 * a), (out * 0.04 * a, y + 0.08 * a)), col,
                   0.012 * a)
    lift = max(lay.mean("AU1"), lay.mean("AU2"))
    if lift * wr > 0.12:
        col = _mix(skin, dark, 0.6 * lift * wr)
        for k, dy in enumerate((0.13, 0.21)):
            xs = _FOREHEAD_X * a * (1.0 - 0.2 * k)
            c.line(np.stack([xs, lay.brow_y - dy * a - 0.03 * a * np.cos(xs / a * 3.0)], axis=1),
                   col, 0.010 * a)


_FOREHEAD_X = np.linspace(-0.35, 0.35, 7)


def _draw_nose(c: _Canvas, idn: Identity, lay: _Layout) -> tuple[float, float]:
    """Nostrils, wings and bridge wrinkles (AU9; AU10 lifts the wings a little).
    Returns (nose width, wing height)."""
    a, skin, wr, eye_y, nose_y = lay.a, idn.skin_rgb, idn.wrinkle, lay.eye_y, lay.nose_y
    a9 = lay.mean("AU9")
    nw = idn.nose_width * a * (1.0 + 0.25 * a9)
    wing_y = nose_y - 0.01 * a - 0.04 * a * a9 - 0.02 * a * lay.mean("AU10")
    c.line(_pts((-0.28 * nw, eye_y + 0.15 * (nose_y - eye_y)), (-0.32 * nw, nose_y - 0.1 * a)),
           _shade(skin, 0.9), 0.012 * a)
    wing_colour, nostril = _shade(skin, 0.72), _shade(skin, 0.45)
    for out in (-1.0, 1.0):
        c.poly(_ellipse(out * 0.42 * nw, wing_y + 0.02 * a, 0.17 * nw, 0.08 * nw, 12), nostril)
        wing = _ellipse(out * 0.72 * nw, wing_y - 0.005, 0.28 * nw, 0.2 * nw, 16)
        c.line(wing[_HALF_RIGHT if out > 0 else _HALF_LEFT], wing_colour, 0.012 * a)
    c.line(_pts((-0.25 * nw, nose_y + 0.005), (0.0, nose_y + 0.012), (0.25 * nw, nose_y + 0.005)),
           _shade(skin, 0.75), 0.012 * a)
    if a9 * wr > 0.08:
        col = _mix(skin, _shade(skin, 0.55), 0.9 * a9 * wr)
        for k in range(3):
            yy = eye_y + (0.08 + 0.07 * k) * (nose_y - eye_y)
            c.line(_pts((-0.35 * nw, yy + 0.01 * a), (0.0, yy - 0.01 * a),
                        (0.35 * nw, yy + 0.01 * a)), col, 0.012 * a)
    return nw, wing_y


_LIP_U = np.linspace(-1.0, 1.0, 13)
_LIP_TAPER = (1.0 - _LIP_U ** 2) ** 0.6
#: Cupid's bow: the upper lip is fuller either side of a small central dip.
_LIP_BOW = (1.0 + 0.25 * np.exp(-((np.abs(_LIP_U) - 0.3) / 0.15) ** 2)
            - 0.15 * np.exp(-(_LIP_U / 0.12) ** 2))


def _draw_mouth(c: _Canvas, idn: Identity, lay: _Layout, nw: float,
                wing_y: float) -> list[tuple[float, float]]:
    """Corners (AU12, AU14, AU15, AU20, AU23/24), lips (AU10, AU16, AU17, AU23/24), opening
    (AU25, AU26, AU27), teeth, dimples, nasolabial folds, chin boss, raised cheeks (AU6).
    Returns the mouth corners (image left, image right)."""
    a, skin, wr, mouth_y = lay.a, idn.skin_rgb, idn.wrinkle, lay.mouth_y
    dark = _shade(skin, 0.55)
    w0 = idn.mouth_width * a
    a10, a16, a17, a20 = lay.mean("AU10"), lay.mean("AU16"), lay.mean("AU17"), lay.mean("AU20")
    a23, a24, a25 = lay.mean("AU23"), lay.mean("AU24"), lay.mean("AU25")
    a26, a27 = lay.mean("AU26"), lay.mean("AU27")
    a9 = lay.mean("AU9")
    corners = []
    for s, out in ((0, -1.0), (1, 1.0)):
        a12, a14 = lay.side("AU12", s), lay.side("AU14", s)
        a15, a20s = lay.side("AU15", s), lay.side("AU20", s)
        cx = out * w0 * (1.0 + 0.22 * a12 + 0.35 * a20s - 0.10 * a14 - 0.22 * a23 - 0.10 * a24
                         - 0.15 * a26 - 0.12 * a27)
        cyy = mouth_y - 0.14 * a * a12 - 0.04 * a * a14 + 0.11 * a * a15 + 0.02 * a * a20s
        corners.append((cx, cyy))
        if a14 > 0.1:   # dimple
            c.line(_pts((cx + out * 0.05 * a, cyy - 0.04 * a), (cx + out * 0.07 * a, cyy),
                        (cx + out * 0.05 * a, cyy + 0.04 * a)), _mix(skin, dark, 0.9 * a14),
                   0.012 * a)
        # nasolabial fold: from the nose wing to beyond the mouth corner
        fold = wr * (0.2 + 0.7 * max(0.5 * lay.side("AU6", s), a9, a10, a12))
        if fold > 0.08:
            x_start = out * 0.95 * nw
            c.line(_pts((x_start, wing_y - 0.01), (x_start + out * 0.12 * a, 0.5 * (wing_y + cyy)),
                        (cx + out * 0.08 * a, cyy + 0.05 * a)), _mix(skin, dark, 0.7 * fold),
                   0.012 * a)
    (lx, ly), (rx, ry) = corners
    gap = a * (0.03 * a25 + 0.20 * a26 + 0.36 * a27)
    thin = max(0.25, 1.0 - 0.55 * a23 - 0.6 * a24 - 0.2 * a20)
    tu = idn.lip_thickness * a * thin
    up_in = mouth_y - 0.3 * gap - 0.07 * a * a10
    lo_in = max(mouth_y + 0.7 * gap + 0.07 * a * a16 - 0.03 * a * a17 + 0.5 * lay.chin_drop, up_in)
    if lo_in - up_in < 0.012 * a:   # lips together: a single line
        up_in = lo_in = 0.5 * (up_in + lo_in)
    upper_in = _curve(lx, ly, rx, ry, up_in, 13, 1.6)
    lower_in = _curve(lx, ly, rx, ry, lo_in, 13, 2.2)
    upper_out = upper_in.copy()
    upper_out[:, 1] -= tu * _LIP_TAPER * _LIP_BOW
    lower_out = lower_in.copy()
    lower_out[:, 1] += 1.25 * tu * _LIP_TAPER
    c.poly(np.vstack([upper_out, lower_out[::-1]]), idn.lip_rgb)
    if lo_in > up_in:
        c.poly(np.vstack([upper_in, lower_in[::-1]]), MOUTH_INSIDE)
        mid = upper_in[2:11]
        teeth = mid[::-1].copy()
        teeth[:, 1] = np.minimum(teeth[:, 1] + 0.07 * a, lower_in[2:11, 1][::-1])
        c.poly(np.vstack([mid, teeth]), TEETH)
        if a16 + a20 > 0.3:   # lower teeth (AU16, AU20)
            low = lower_in[3:10]
            edge = low[::-1].copy()
            edge[:, 1] = np.maximum(edge[:, 1] - 0.04 * a * min(1.0, a16 + a20),
                                    np.minimum(teeth[1:8, 1], edge[:, 1]))
            c.poly(np.vstack([low, edge]), TEETH)
    else:
        c.line(upper_in, _shade(idn.lip_rgb, 0.5), 0.014 * a)
    if a17 * wr > 0.1:   # chin boss
        xs = _CHIN_X * a
        yy = lower_out[6, 1] + 0.08 * a
        c.line(np.stack([xs, yy + 0.03 * a * (xs / (0.15 * a)) ** 2], axis=1),
               _mix(skin, dark, 0.6 * a17 * wr), 0.012 * a)
    a6 = lay.mean("AU6")
    if a6 > 0.1:   # raised cheeks
        col = _mix(skin, CHEEK_FLUSH, 0.18 * a6)
        for out in (-1.0, 1.0):
            c.poly(_ellipse(out * (idn.eye_spacing * a + 0.03 * a),
                            lay.eye_y + 0.5 * (lay.nose_y - lay.eye_y) + 0.05 * a - 0.06 * a * a6,
                            0.15 * a, 0.09 * a, 16), col)
    return corners


_CHIN_X = np.linspace(-0.15, 0.15, 5)


def _draw_hair_cap(c: _Canvas, idn: Identity, lay: _Layout) -> None:
    """Hair over the skull, bounded below by the hairline (temples lower than the centre)."""
    style = idn.hair_style
    if style == "bald":
        return
    a, b, cy = lay.a, lay.b, lay.cy
    colour = _mix(idn.hair_rgb, idn.skin_rgb, 0.45) if style == "buzz" else idn.hair_rgb
    v = idn.hair_volume
    hair_y = lay.brow_y - idn.hairline * a
    side_y = {"long": lay.eye_y + 0.25 * b,
              "fringe": lay.eye_y - 0.05 * b}.get(style, lay.eye_y - 0.12 * b)
    # outer edge: the skull enlarged by the hair's volume, over the top from one side
    outer = np.stack([(a + v) * _CAP_COS, cy + (b + v) * _CAP_SIN], axis=1)
    # inner edge (hairline), right to left: down the temple, across the forehead
    hy = hair_y + (0.04 * a * np.cos(_CAP_XS * 9.0) if style == "fringe"   # ragged bangs
                   else 0.22 * a * np.abs(_CAP_XS) ** 3)
    inner = np.stack([_CAP_XS * a * 0.92, hy], axis=1)
    c.poly(np.vstack([_pts((-(a + v), side_y)), outer, _pts((a + v, side_y), (a * 0.97, side_y)),
                      inner, _pts((-a * 0.97, side_y))]), colour)
    if style == "long":   # strands beside the cheeks
        for out in (-1.0, 1.0):
            c.poly(_pts((out * (a + v), side_y - 0.3 * b), (out * (a + v + 0.02), cy + b),
                        (out * a * 0.9, cy + 0.7 * b), (out * a * 0.9, side_y - 0.3 * b)), colour)


_CAP_T = np.linspace(np.pi, 2 * np.pi, 25)
_CAP_COS, _CAP_SIN = np.cos(_CAP_T), np.sin(_CAP_T)
_CAP_XS = np.linspace(1.0, -1.0, 13)


def render_face(spec: FaceSpec, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``spec`` as a ``size`` x ``size`` RGB image.

    Returns:
        (image, landmarks): uint8 (size, size, 3), and float (5, 2) pixel coordinates (x, y;
        pixel centres at integers) of the image-left eye, image-right eye, nose tip, image-left
        and image-right mouth corner (the order of ``LANDMARK_NAMES``).
    """
    if int(size) != size or size < 8:
        raise ValueError(f"size must be an integer >= 8 pixels, got {size!r}")
    size = int(size)
    idn, sc = spec.identity, spec.scene
    lay = _layout(spec)
    c = _Canvas(size, spec.pose)
    _draw_body(c, idn, lay)
    eyes = _draw_eyes_and_brows(c, idn, lay, spec.gaze)
    _draw_upper_wrinkles(c, idn, lay)
    nw, wing_y = _draw_nose(c, idn, lay)
    corners = _draw_mouth(c, idn, lay, nw, wing_y)
    _draw_hair_cap(c, idn, lay)
    image = c.finish(sc.background)
    if SUPERSAMPLE > 1:
        image = image.reduce(SUPERSAMPLE)

    arr = np.asarray(image, dtype=np.float32)
    arr *= (_light_field(size, sc.light_angle, sc.light_strength) * sc.brightness)[:, :, None]
    if sc.noise_sigma > 0:
        # triangular noise (sum of two uniform bytes) with standard deviation noise_sigma:
        # close to Gaussian sensor noise at a fifth of the cost of drawing normals
        raw = np.frombuffer(np.random.default_rng(sc.noise_seed).bytes(2 * arr.size), np.uint8)
        noise = raw[: arr.size].astype(np.float32) + raw[arr.size:] - np.float32(255.0)
        arr += noise.reshape(arr.shape) * np.float32(sc.noise_sigma * _TRIANGULAR_SCALE)
    arr += 0.5
    np.clip(arr, 0, 255, out=arr)
    pts = np.array([eyes[0], eyes[1], (0.0, lay.nose_y), corners[0], corners[1]])
    landmarks = (c.px(pts) + 0.5) / SUPERSAMPLE - 0.5
    return arr.astype(np.uint8), landmarks


#: 1 / standard deviation of the sum of two independent uniform bytes minus 255.
_TRIANGULAR_SCALE = math.sqrt(6.0) / 255.0
_GRID: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _light_field(size: int, angle: float, strength: float) -> np.ndarray:
    """1 + strength * (position along the light direction), positions in [-1, 1]."""
    if size not in _GRID:
        g = (np.arange(size, dtype=np.float32) + 0.5) / size * 2.0 - 1.0
        _GRID[size] = (g[None, :].repeat(size, 0), g[:, None].repeat(size, 1))
    gx, gy = _GRID[size]
    return 1.0 + np.float32(strength) * (np.float32(math.cos(angle)) * gx
                                         + np.float32(math.sin(angle)) * gy)
