"""Faces in, aligned crops out: MTCNN detection, eye-level alignment, margin crop, cache.

:func:`prepare_faces` is what notebooks call. For each image of a manifest it

1. detects faces with MTCNN (facenet-pytorch; its P/R/O-net weights ship inside the wheel, so
   nothing is downloaded) on a copy no larger than ``detect_max_side`` pixels, keeping the
   largest face whose probability reaches ``min_prob``;
2. rotates the image about the face-box centre so the two eye landmarks lie on one row;
3. crops a square of side ``max(box w, h) * (1 + 2 * margin)`` (``margin`` is added on each
   side; parts beyond the photo are black) and resizes it to ``size`` x ``size``;
4. maps MTCNN's five landmarks (eyes, nose, mouth corners) into the crop's pixel coordinates.

Images without a face move to the manifest's exclusions with reason ``"face not detected"``
(the paper lost one CAFE image this way). Results are cached per image in
:func:`faces_cache` (``$EMO_CACHE/faces``): one folder per parameter set (its key), one npz
entry per file content hash.

Synthetic manifests (``manifest.meta["landmarks"] == "generator"``) take the same steps 2-4:
the generator's five landmarks stand in for MTCNN's, and the face box is made from them the way
MTCNN's box sits on its own landmarks in real photographs (:func:`face_from_landmarks`), so the
crops frame a synthetic face as MTCNN frames a real one. No detector is loaded; an image without
landmarks is excluded with reason ``"no landmarks"``. These crops are not cached: one affine
resample costs less than reading a cache entry.

:func:`landmark_proportions` measures how crops frame faces (inter-ocular distance, mouth width,
eye-to-mouth distance as fractions of the crop side) on any :class:`FaceSet`.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from .cache import DiskCache
from .data.images import ImageReadError, file_sha1, open_rgb
from .data.manifest import EXCLUSION_COLUMNS, LANDMARK_COLUMNS, Manifest
from .validation import check_fraction, check_int

log = logging.getLogger(__name__)

NOT_DETECTED = "face not detected"
NO_LANDMARKS = "no landmarks"

#: How MTCNN's box sits on MTCNN's own five landmarks, measured with this module's
#: ``detect_faces`` on 11 frontal faces in real photographs that ship with Python packages
#: (scikit-image's astronaut; face_recognition 1.3.0's test images biden, obama, obama2, obama3;
#: insightface 2.1's Tom_Hanks_54745 and the six detections of t1.jpg less one turned head).
#: Lengths are in the eye-levelled frame; ``iod`` is the eye-to-eye distance, ``eye_mouth`` the
#: distance from the eye line to the mouth-corner line. Box width / iod: 2.20 (sd 0.12); box
#: height / eye_mouth: 2.89 (sd 0.08, far steadier than height / iod: 2.93, sd 0.24); box centre
#: below the eye line: 0.277 eye_mouth (sd 0.07); box centre beside the eye midpoint: 0.01 iod
#: (sd 0.2, taken as 0). MTCNN run on synthetic faces keeps the same shape on its own
#: landmarks (width 2.28 iod; height 2.67-2.83 eye_mouth, children to adults), but its
#: landmarks miss the drawn ones by 13-18 % of iod, so the generator's landmarks are used.
MTCNN_BOX_WIDTH_PER_IOD = 2.20
MTCNN_BOX_CENTRE_BELOW_EYES = 0.277
#: Box height / eye_mouth, set from the larger reference rather than the 11 photographs' 2.89:
#: on 389 real adult photographs (this module, margin 0.2; see
#: ``emo_lib.data.synthetic.reference``) the crop side is 1 / 0.247 iod and 1 / 0.273 eye_mouth,
#: so the box side (= its height) is 2.62 eye_mouth.
MTCNN_BOX_HEIGHT_PER_EYE_MOUTH = round(1 / (0.273 * 1.4), 2)


@dataclass
class FaceSet:
    """Aligned faces and the manifest they came from, row for row.

    Attributes:
        images: (N, size, size, 3) uint8 crops.
        landmarks: (N, 5, 2) float32 (x, y) in crop pixels: left eye, right eye, nose, mouth
            left, mouth right (NaN where the manifest had none).
        manifest: the input manifest without the images whose face was not found (those are
            in its ``exclusions``); ``len(images) == len(manifest.frame)``.
        scores: (N,) detection probability (1.0 for synthetic faces, whose landmarks are known).
        size: side of the crops.
    """

    images: np.ndarray
    landmarks: np.ndarray
    manifest: Manifest
    scores: np.ndarray
    size: int

    def __len__(self) -> int:
        return len(self.images)


@dataclass(frozen=True)
class Face:
    """One detection, in the coordinates of the image it was found in."""

    box: np.ndarray        # (4,) x1, y1, x2, y2
    landmarks: np.ndarray  # (5, 2)
    prob: float


@functools.lru_cache(maxsize=4)
def get_detector(device: str = "cpu") -> Any:
    """The MTCNN detector on ``device`` (built once per device)."""
    from facenet_pytorch import MTCNN

    from .device import resolve_device

    return MTCNN(keep_all=True, device=resolve_device(device), post_process=False)


def _pick(boxes: Any, probs: Any, points: Any, scale: float, min_prob: float) -> Face | None:
    """The largest face at or above ``min_prob``, mapped back to full-image coordinates."""
    if boxes is None or len(boxes) == 0:
        return None
    best: Face | None = None
    best_area = -1.0
    for box, prob, pts in zip(boxes, probs, points):
        if prob is None or float(prob) < min_prob:
            continue
        box = np.asarray(box, dtype=np.float64) / scale
        area = (box[2] - box[0]) * (box[3] - box[1])
        if area > best_area:
            best_area = area
            best = Face(box, np.asarray(pts, dtype=np.float64) / scale, float(prob))
    return best


def detect_faces(images: Sequence[Image.Image | np.ndarray], *, min_prob: float = 0.9,
                 device: str = "cpu", max_side: int = 640) -> list[Face | None]:
    """The largest face (probability >= ``min_prob``) in each image, or None.

    Images are shrunk to at most ``max_side`` pixels for detection (faces in these data sets
    fill the frame; detection on a 4000-pixel photo only costs time), and images of equal
    shape go through the detector as one batch.
    """
    detector = get_detector(device)
    small: list[np.ndarray] = []
    scales: list[float] = []
    for im in images:
        pil = im if isinstance(im, Image.Image) else Image.fromarray(np.asarray(im))
        scale = min(1.0, max_side / max(pil.size))
        if scale < 1.0:
            pil = pil.resize((max(1, round(pil.width * scale)), max(1, round(pil.height * scale))),
                             Image.BILINEAR)
            scale = pil.width / (im.width if isinstance(im, Image.Image) else im.shape[1])
        small.append(np.asarray(pil.convert("RGB")))
        scales.append(scale)
    out: list[Face | None] = [None] * len(small)
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, a in enumerate(small):
        groups.setdefault(a.shape, []).append(i)
    for idx in groups.values():
        batch = np.stack([small[i] for i in idx])
        boxes, probs, points = detector.detect(batch, landmarks=True)
        for k, i in enumerate(idx):
            out[i] = _pick(boxes[k], probs[k], points[k], scales[i], min_prob)
    return out


def align_face(image: Image.Image | np.ndarray, face: Face, size: int, margin: float = 0.2,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Rotate ``image`` so the eyes are level, crop the face with ``margin`` and resize.

    Returns:
        (crop (size, size, 3) uint8, landmarks (5, 2) in crop pixels).
    """
    pil = image if isinstance(image, Image.Image) else Image.fromarray(np.asarray(image))
    left, right = face.landmarks[0], face.landmarks[1]
    theta = math.atan2(right[1] - left[1], right[0] - left[0])
    cx, cy = (face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2
    side = max(face.box[2] - face.box[0], face.box[3] - face.box[1]) * (1 + 2 * margin)
    side_px = max(1, int(round(side)))
    half = side_px / 2
    cos, sin = math.cos(theta), math.sin(theta)
    # Output (u, v) of the crop samples input c + R(theta) ((u, v) - half): the inverse of
    # q = R(-theta) (p - c) + half, which levels the eye vector.
    coeffs = (cos, -sin, cx - cos * half + sin * half,
              sin, cos, cy - sin * half - cos * half)
    crop = pil.convert("RGB").transform((side_px, side_px), Image.AFFINE, coeffs,
                                        resample=Image.BILINEAR, fillcolor=(0, 0, 0))
    if crop.size != (size, size):
        crop = crop.resize((size, size), Image.BILINEAR)
    rel = face.landmarks - np.array([cx, cy])
    rot = np.array([[cos, sin], [-sin, cos]])  # R(-theta)
    pts = (rel @ rot.T + half) * (size / side_px)
    return np.asarray(crop, dtype=np.uint8), pts.astype(np.float32)


def face_from_landmarks(landmarks: np.ndarray) -> Face:
    """The face box MTCNN would draw around these five landmarks (``(5, 2)``, MTCNN's order).

    In the frame where the eyes are level: width ``MTCNN_BOX_WIDTH_PER_IOD`` x the eye
    distance, height ``MTCNN_BOX_HEIGHT_PER_EYE_MOUTH`` x the eye-to-mouth distance, centred
    below the eye midpoint by ``MTCNN_BOX_CENTRE_BELOW_EYES`` x that distance. The box returned
    is axis-aligned with those sides about that centre: :func:`align_face` reads only its
    centre and its longer side.

    Raises:
        ValueError: landmarks not (5, 2), not finite, or eyes/mouth that do not form a face
            (eyes not apart, mouth not below the eyes).
    """
    pts = np.asarray(landmarks, dtype=np.float64)
    if pts.shape != (5, 2) or not np.isfinite(pts).all():
        raise ValueError(f"landmarks must be a finite (5, 2) array (eyes, nose, mouth corners), "
                         f"got {pts.tolist() if pts.size <= 10 else pts.shape}")
    eyes, mouth = (pts[0] + pts[1]) / 2, (pts[3] + pts[4]) / 2
    across = pts[1] - pts[0]
    iod = float(np.hypot(*across))
    if iod <= 0:
        raise ValueError(f"landmarks {pts.tolist()}: the two eyes coincide")
    down = np.array([-across[1], across[0]]) / iod        # unit vector from the eyes to the chin
    eye_mouth = float((mouth - eyes) @ down)
    if eye_mouth <= 0:
        raise ValueError(f"landmarks {pts.tolist()}: the mouth is not below the eyes")
    centre = eyes + MTCNN_BOX_CENTRE_BELOW_EYES * eye_mouth * down
    half = np.array([MTCNN_BOX_WIDTH_PER_IOD * iod, MTCNN_BOX_HEIGHT_PER_EYE_MOUTH * eye_mouth]) / 2
    return Face(box=np.concatenate([centre - half, centre + half]), landmarks=pts, prob=1.0)


def landmark_proportions(faces: FaceSet, by: str | Sequence[str] | None = None) -> pd.DataFrame:
    """How the crops frame the faces: mean landmark distances as fractions of the crop side.

    Columns: ``n``, ``interocular`` (eye to eye), ``mouth_width`` (corner to corner),
    ``eye_to_mouth`` (eye midpoint to mouth-corner midpoint, perpendicular to the eye line) and
    ``eye_to_mouth_ratio`` (``eye_to_mouth / interocular`` of the means). One row per group of
    ``by`` (manifest columns, e.g. ``"age_group"``), or one row ``"all"``. Faces without
    landmarks (NaN) are left out of the means and not counted in ``n``.
    """
    lm = np.asarray(faces.landmarks, dtype=np.float64) / float(faces.size)
    across = lm[:, 1] - lm[:, 0]
    iod = np.hypot(across[:, 0], across[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        down = np.stack([-across[:, 1], across[:, 0]], axis=1) / iod[:, None]
    gap = (lm[:, 3] + lm[:, 4]) / 2 - (lm[:, 0] + lm[:, 1]) / 2
    table = pd.DataFrame({
        "interocular": iod,
        "mouth_width": np.hypot(*(lm[:, 4] - lm[:, 3]).T),
        "eye_to_mouth": (gap * down).sum(axis=1),
    })
    table = table[np.isfinite(table).all(axis=1)]
    keys = [by] if isinstance(by, str) else list(by or [])
    missing = [k for k in keys if k not in faces.manifest.frame.columns]
    if missing:
        raise ValueError(f"by={missing}: not a manifest column; columns: "
                         f"{sorted(faces.manifest.frame.columns)}")
    if keys:
        groups = table.join(faces.manifest.frame[keys]).groupby(keys, sort=True)
        out = groups.mean()
        out.insert(0, "n", groups.size())
    else:
        out = table.mean().to_frame("all").T
        out.insert(0, "n", len(table))
    out["eye_to_mouth_ratio"] = out["eye_to_mouth"] / out["interocular"]
    return out


def faces_cache() -> DiskCache:
    """Where detected crops are kept (``$EMO_CACHE/faces``), keyed by this module's code and
    everything it imports from emo_lib: a change to detection or alignment misses old crops."""
    return DiskCache("faces", code=(__name__,))


def _resolve(manifest: Manifest, path: str) -> Path:
    p = Path(path)
    if not p.is_absolute() and manifest.root is not None and not p.exists():
        p = Path(manifest.root) / p
    return p


def _finish(manifest: Manifest, kept: list[int], images: list[np.ndarray],
            landmarks: list[np.ndarray], scores: list[float], excluded: list[tuple[str, str]],
            size: int, params: dict[str, Any]) -> FaceSet:
    frame = manifest.frame.iloc[kept].reset_index(drop=True)
    frame["face_score"] = np.asarray(scores, dtype=np.float32)
    new_ex = pd.DataFrame(excluded, columns=list(EXCLUSION_COLUMNS))
    exclusions = new_ex if manifest.exclusions.empty else (
        manifest.exclusions if new_ex.empty else
        pd.concat([manifest.exclusions, new_ex], ignore_index=True))
    meta = {**manifest.meta, "faces": {**params, "n_excluded": len(excluded)}}
    out = dataclasses.replace(manifest, frame=frame, exclusions=exclusions, meta=meta)
    return FaceSet(
        images=np.stack(images) if images else np.empty((0, size, size, 3), np.uint8),
        landmarks=np.stack(landmarks).astype(np.float32) if landmarks
        else np.empty((0, 5, 2), np.float32),
        manifest=out, scores=np.asarray(scores, dtype=np.float32), size=size)


def _prepare_from_landmarks(manifest: Manifest, size: int, margin: float,
                            progress: bool) -> FaceSet:
    """Synthetic faces: the crop of :func:`align_face` around :func:`face_from_landmarks`."""
    frame = manifest.frame
    has_lm = all(c in frame.columns for c in LANDMARK_COLUMNS)
    coords = frame[list(LANDMARK_COLUMNS)].to_numpy(np.float64).reshape(-1, 5, 2) if has_lm \
        else np.full((len(frame), 5, 2), np.nan)
    kept, images, landmarks, excluded = [], [], [], []
    for i, path in enumerate(tqdm(frame["path"], desc="crop faces (generator landmarks)",
                                  disable=not progress)):
        try:
            face = face_from_landmarks(coords[i])
        except ValueError:
            excluded.append((path, NO_LANDMARKS))
            continue
        try:
            im = open_rgb(_resolve(manifest, path))
        except ImageReadError as err:
            excluded.append((path, err.reason))
            continue
        crop, pts = align_face(im, face, size, margin)
        kept.append(i)
        images.append(crop)
        landmarks.append(pts)
    if excluded:
        log.info("prepare_faces: %d of %d images excluded", len(excluded), len(frame))
    return _finish(manifest, kept, images, landmarks, [1.0] * len(kept), excluded, size,
                   {"size": size, "margin": margin, "box": "face_from_landmarks",
                    "landmarks": "generator"})


def prepare_faces(manifest: Manifest, size: int, *, margin: float = 0.2, min_prob: float = 0.9,
                  device: str = "cpu", cache: bool = True, progress: bool = True,
                  batch_size: int = 16, detect_max_side: int = 640) -> FaceSet:
    """Detect, align and crop the face of every image in ``manifest``.

    Args:
        size: side of the output crops (the model's input size).
        margin: fraction of the face box added on each side of the crop.
        min_prob: MTCNN probability a face needs; below it the image counts as "face not
            detected".
        device: where MTCNN runs (``"cpu"``, ``"cuda"``, ``"auto"``).
        cache: reuse/store per-image results in :func:`faces_cache`.
        batch_size: images read and detected together.
        detect_max_side: longest side of the copy the detector sees.

    A manifest whose ``meta["landmarks"]`` is ``"generator"`` (the synthetic presets) skips
    detection: its landmark columns give the box (:func:`face_from_landmarks`), then the same
    alignment and crop; ``min_prob``, ``device``, ``cache``, ``batch_size`` and
    ``detect_max_side`` do not apply to it.

    Returns:
        A :class:`FaceSet` whose manifest lists the images without a face (and unreadable
        ones) in its exclusions.
    """
    check_int("size (crop side, pixels)", size, minimum=8)
    check_fraction("margin (a fraction of the face box)", margin, high=2.0)
    if manifest.meta.get("landmarks") == "generator":
        return _prepare_from_landmarks(manifest, size, margin, progress)
    from .device import device_identity, resolve_device   # torch: imported when detecting

    params = {"size": size, "margin": margin, "min_prob": min_prob,
              "detect_max_side": detect_max_side,
              "device": device_identity(resolve_device(device))}   # MTCNN's boxes: torch's
    store = faces_cache() if cache else None
    folder = store.key(params, length=12) if store is not None else ""
    frame = manifest.frame
    paths = [_resolve(manifest, p) for p in frame["path"]]
    hashes: list[str | None] = list(frame["content_hash"]) if "content_hash" in frame.columns \
        else [None] * len(frame)
    results: list[tuple[str, Any] | None] = [None] * len(frame)

    def entry_file(i: int) -> Path | None:
        if store is None:
            return None
        if not hashes[i]:
            try:
                hashes[i] = file_sha1(paths[i])
            except OSError:
                return None
        return store.path(folder, f"{hashes[i]}.npz")

    todo = []
    for i in range(len(frame)):
        f = entry_file(i)
        entry = store.read_npz(f) if store is not None and f is not None else None
        if entry is None:
            todo.append(i)
        elif bool(entry["found"]):
            results[i] = ("face", (entry["image"], entry["landmarks"], float(entry["prob"])))
        else:
            results[i] = ("excluded", NOT_DETECTED)
    bar = tqdm(total=len(todo), desc="detect faces", disable=not progress or not todo)
    for start in range(0, len(todo), batch_size):
        chunk = todo[start:start + batch_size]
        readable, pil_images = [], []
        for i in chunk:
            try:
                pil_images.append(open_rgb(paths[i]))
                readable.append(i)
            except ImageReadError as err:
                results[i] = ("excluded", err.reason)
        faces = detect_faces(pil_images, min_prob=min_prob, device=device,
                             max_side=detect_max_side) if pil_images else []
        for i, im, face in zip(readable, pil_images, faces):
            f = entry_file(i)
            if face is None:
                results[i] = ("excluded", NOT_DETECTED)
                if store is not None and f is not None:
                    store.write_npz(f, compressed=False, found=np.array(False))
                continue
            crop, pts = align_face(im, face, size, margin)
            results[i] = ("face", (crop, pts, face.prob))
            if store is not None and f is not None:
                store.write_npz(f, compressed=False, found=np.array(True), image=crop,
                                landmarks=pts, prob=np.array(face.prob))
        bar.update(len(chunk))
    bar.close()
    kept, images, landmarks, scores, excluded = [], [], [], [], []
    for i, result in enumerate(results):
        assert result is not None, "every image is either cached or processed"
        kind, value = result
        if kind == "face":
            kept.append(i)
            images.append(value[0])
            landmarks.append(value[1])
            scores.append(value[2])
        else:
            excluded.append((str(frame["path"].iloc[i]), value))
    if excluded:
        log.info("prepare_faces: %d of %d images excluded", len(excluded), len(frame))
    return _finish(manifest, kept, images, landmarks, scores, excluded, size, params)
