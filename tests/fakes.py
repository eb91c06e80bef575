"""Fake data trees for the adapter and image tests: tiny generated images, realistic names.

Every image is random noise seeded from its file name, so two files never share content unless
a test copies one on purpose (duplicate detection). No real faces anywhere.
"""
from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from PIL import Image

SIDE = 24


def _seed(name: str) -> int:
    return int.from_bytes(hashlib.sha1(name.encode()).digest()[:4], "little")


def noise(name: str, side: int = SIDE, channels: int = 3) -> np.ndarray:
    """A (side, side, channels) uint8 noise image seeded from ``name``."""
    rng = np.random.default_rng(_seed(name))
    return rng.integers(0, 256, (side, side, channels), dtype=np.uint8)


def write_image(path: Path, side: int = SIDE, seed_name: str | None = None) -> Path:
    """Write a small RGB noise image in the format its suffix names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(noise(seed_name or str(path.name), side)).save(path)
    return path


def write_images(root: Path, names: Iterable[str], side: int = SIDE) -> list[Path]:
    return [write_image(root / n, side, seed_name=n) for n in names]


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Path:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


# --- broken and unusual files ------------------------------------------------------------------

def truncated_jpeg(path: Path, side: int = 64) -> Path:
    """A JPEG cut in the middle of its entropy-coded data (an interrupted copy)."""
    write_image(path, side)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def corrupt_jpeg(path: Path) -> Path:
    """JPEG start-of-image marker followed by garbage."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 4)
    return path


def html_as_jpeg(path: Path) -> Path:
    """A download error page saved with an image name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("<!DOCTYPE html><html><body>403 Forbidden</body></html>")
    return path


def huge_png_header(path: Path, width: int = 100_000, height: int = 100_000) -> Path:
    """A tiny PNG whose header claims ``width`` x ``height`` pixels (a decompression bomb's
    signature: the size is read before anything is decoded)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
    idat = zlib.compress(b"\x00" * 16)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat)
                     + chunk(b"IEND", b""))
    return path


# --- data-set trees ------------------------------------------------------------------------------

#: Emotion tokens as the CAFE release writes them: the plain token is the closed-mouth pose,
#: ``open`` the open-mouth one, ``withtongue`` disgust with the tongue out. The fake tree has
#: every emotion in both mouth poses (the real release need not).
CAFE_EMOTIONS = ("angry", "disgust", "fearful", "happy", "neutral", "sad", "surprise")
CAFE_TOKENS = tuple(t for e in CAFE_EMOTIONS for t in (e, f"{e}open")) + ("disgustwithtongue",)
#: Children as (gender, ethnicity code, number). Numbers repeat across gender and ethnicity
#: (F-AA-01, M-AA-01, F-PI-01; M-AS-04, F-AS-04): only all three identify a child.
CAFE_CHILDREN = (("F", "AA", 1), ("M", "EA", 6), ("F", "LA", 3), ("M", "AA", 1),
                 ("F", "PI", 1), ("M", "SA", 12), ("F", "AS", 4), ("M", "AS", 4))
#: Further photos of a pose: (child index, token) -> suffix, as the release writes them.
CAFE_EXTRA_PHOTOS = {(1, "angryopen"): "b", (2, "neutral"): "-2", (4, "sad"): "b",
                     (5, "happyopen"): "-2"}
_CAFE_LABELS = {"angry": "angry", "disgust": "disgust", "fearful": "fear", "happy": "happy",
                "neutral": "neutral", "sad": "sad", "surprise": "surprise"}


def cafe_label(path: Path | str) -> str:
    """The class a fake CAFE file was written for (``angryopen_M-EA-06b.jpg`` -> ``angry``)."""
    token = Path(path).name.split("_")[0]
    return next(_CAFE_LABELS[e] for e in CAFE_EMOTIONS if token.startswith(e))


def cafe_tree(root: Path, n_children: int = 3, with_csv: bool = False,
              csv_name: str = "CAFE_description.csv") -> list[Path]:
    """``root/<Emotion>/<token>_<G>-<EC>-<NN>[suffix].jpg``, named like the release
    (``angryopen_M-EA-06b.jpg``): the first ``n_children`` of :data:`CAFE_CHILDREN`, each with
    every token of :data:`CAFE_TOKENS` plus the extra photos of :data:`CAFE_EXTRA_PHOTOS`.
    ``with_csv`` adds a description CSV (``file_name, emotion, subfolder, Gender, Ethnicity,
    Age, ChildID``), as a CSV-carrying copy of the set might have."""
    if not 1 <= n_children <= len(CAFE_CHILDREN):
        raise ValueError(f"n_children={n_children}: 1 to {len(CAFE_CHILDREN)}")
    rows, paths = [], []
    for i, (gender, ethnicity, number) in enumerate(CAFE_CHILDREN[:n_children]):
        for token in CAFE_TOKENS:
            suffixes = [""] + ([CAFE_EXTRA_PHOTOS[(i, token)]] if (i, token) in CAFE_EXTRA_PHOTOS
                               else [])
            for suffix in suffixes:
                sub = cafe_label(token).capitalize()
                name = f"{token}_{gender}-{ethnicity}-{number:02d}{suffix}.jpg"
                paths.append(write_image(root / sub / name, seed_name=name))
                rows.append([name, token, sub, "Female" if gender == "F" else "Male",
                             "Asian" if ethnicity == "AS" else "Other", 3 + i % 5,
                             f"C{i + 1:03d}"])
    if with_csv:
        write_csv(root / csv_name,
                  ["file_name", "emotion", "subfolder", "Gender", "Ethnicity", "Age", "ChildID"],
                  rows)
    return paths


NIMH_EXPRESSIONS = "AFHNS"


def nimh_tree(root: Path, subjects: Sequence[str] = ("M10", "F12", "F23"),
              gazes: str = "SA") -> list[Path]:
    """``root/<G><subject><expression><gaze>_<number>.jpg`` like ``M10HS_6767.jpg``."""
    paths, number = [], 5000
    for subject in subjects:
        for expr in NIMH_EXPRESSIONS:
            for gaze in gazes:
                number += 7
                name = f"{subject}{expr}{gaze}_{number}.jpg"
                paths.append(write_image(root / name, seed_name=name))
    return paths


SE_CLASSES = ("Amusement", "Anger", "Awe", "Contentment", "Disgust", "Excitement", "Fear",
              "Sadness")


def class_folder_tree(root: Path, classes: Sequence[str] = SE_CLASSES,
                      per_class: Sequence[int] | int = 2, ext: str = ".jpg") -> list[Path]:
    """ImageFolder layout ``root/<Class>/<class>_<i>.jpg``."""
    counts = [per_class] * len(classes) if isinstance(per_class, int) else list(per_class)
    paths = []
    for cls, n in zip(classes, counts):
        for i in range(n):
            name = f"{cls.lower()}_{i:04d}{ext}"
            seed = f"{root.name}/{cls}/{name}"   # split folders repeat names, not content
            paths.append(write_image(root / cls / name, seed_name=seed))
    return paths


class FakeAdultPretrain:
    """Stands in for ``load_dataset("synthetic:adult_pretrain", n=, size=, seed=)`` in the
    pretraining tests: tiny noise images with one tint per class (learnable in an epoch), in a
    folder per (n, size, seed) under ``root``. ``calls`` records the options asked for;
    setting ``version`` plays a new generator version."""

    def __init__(self, root: Path, version: str = "fake-1"):
        self.root, self.version = Path(root), version
        self.calls: list[dict] = []

    def __call__(self, name: str, **options):
        from emo_lib.data.manifest import EMOTIONS_7, make_manifest
        import pandas as pd

        assert name == "synthetic:adult_pretrain", name
        self.calls.append(options)
        n, size, seed = options["n"], options["size"], options["seed"]
        rng = np.random.default_rng(seed)
        folder = self.root / f"n{n}-s{size}-seed{seed}"
        folder.mkdir(parents=True, exist_ok=True)
        rows = []
        for i in range(n):
            img = rng.integers(0, 120, (size, size, 3), dtype=np.uint8)
            img[..., i % 3] += np.uint8(60 + 15 * (i % 7))  # a class-dependent tint
            path = folder / f"adult_{i:04d}.png"
            Image.fromarray(img).save(path)
            rows.append({"path": str(path), "label": EMOTIONS_7[i % 7],
                         "gender": "female" if i % 2 else "male", "age_group": "adult",
                         "subject_id": f"s{i // 7}", "dataset": "fake"})
        return make_manifest(pd.DataFrame(rows), name="synthetic:adult_pretrain",
                             synthetic=True, root=folder,
                             meta={"generator_version": self.version,
                                   "cache_key": f"fake{n}-{size}-{seed}"})
