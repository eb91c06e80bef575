"""Reading image files into uint8 RGB arrays, and deciding which files cannot be used.

Real data sets carry surprises: a truncated JPEG from an interrupted copy, a zero-byte file, an
HTML error page saved as ``.jpg``, CMYK JPEGs, 16-bit PNGs, transparent PNGs, phone photos whose
orientation lives in EXIF, and now and then a decompression bomb. :func:`inspect_image` names the
problem as a short reason (the adapters log it as an exclusion and carry on); :func:`read_image`
turns everything readable into the same uint8 RGB array:

- EXIF orientation is applied (``ImageOps.exif_transpose``): the photo is rotated, not excluded.
- CMYK, grayscale, bilevel and palette images are converted to RGB.
- 16-bit images are scaled to 8 bits (``value / 257``: 65535 -> 255), not clipped.
- Transparency (RGBA, LA, palette or RGB with a transparent colour) is composited on white, the
  background a printed face sheet has; dropping the alpha channel would instead reveal whatever
  colour the transparent pixels happen to store.
- Images with more than ``max_pixels`` pixels are refused before they are decoded.

:func:`load_images` decodes a whole data set once into the uint8 image cache (a memory-mapped
``.npy`` keyed by the files' content and the size) that training, and every worker process,
reads from.
"""
from __future__ import annotations

import hashlib
import io
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm.auto import tqdm

from ..cache import DiskCache, npy_file_of, open_npy

#: File name extensions treated as images when scanning a data set (case-insensitive).
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp"}
)
#: Default decompression-bomb guard: 64 megapixels (8000 x 8000) is far above any face photo.
DEFAULT_MAX_PIXELS: int = 64_000_000
#: Background that transparent pixels are composited on.
ALPHA_BACKGROUND: tuple[int, int, int] = (255, 255, 255)



class ImageReadError(ValueError):
    """A file cannot be read as an image; ``reason`` is the short exclusion reason."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True)
class ImageCheck:
    """Outcome of checking one file: ``reason`` None means usable."""

    path: str
    reason: str | None
    sha1: str | None = None      # content hash (duplicates), None when unreadable
    width: int | None = None
    height: int | None = None


def is_image_file(path: str | Path) -> bool:
    """True if ``path`` has an image extension (the file itself is not opened)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except PermissionError:
        raise ImageReadError(path, "cannot read file: permission denied") from None
    except FileNotFoundError:
        raise ImageReadError(path, "file not found") from None
    except IsADirectoryError:
        raise ImageReadError(path, "is a directory, not an image file") from None
    except OSError as err:
        raise ImageReadError(path, f"cannot read file: {err.strerror or err}") from None
    if not data:
        raise ImageReadError(path, "empty file (0 bytes)")
    return data


def _open(data: bytes, path: Path, max_pixels: int,
          draft: int | None = None) -> tuple[Image.Image, tuple[int, int]]:
    """Open and fully decode ``data``: (image, size as stored); raise :class:`ImageReadError`
    with the reason."""
    try:
        with warnings.catch_warnings():
            # Our own max_pixels guard below replaces PIL's warning; PIL's hard error (over
            # twice its limit) still fires at open, before anything is decoded.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as err:
        raise ImageReadError(
            path, f"image too large (decompression-bomb guard, max_pixels={max_pixels:,}): {err}"
        ) from None
    except UnidentifiedImageError:
        raise ImageReadError(
            path, f"not an image: no known image format in the file's first bytes "
                  f"({data[:8]!r})"
        ) from None
    except (OSError, ValueError, SyntaxError) as err:
        raise ImageReadError(path, f"corrupt image header: {err}") from None
    width, height = im.size
    if width * height > max_pixels:
        raise ImageReadError(
            path, f"image too large: {width} x {height} = {width * height:,} pixels exceeds "
                  f"max_pixels={max_pixels:,} (decompression-bomb guard; raise max_pixels if "
                  "this is a real photo)"
        )
    if width == 0 or height == 0:
        raise ImageReadError(path, f"image has no pixels ({width} x {height})")
    if draft is not None and im.format == "JPEG":
        # Decode at a reduced DCT scale: the whole entropy-coded stream is still read, so a
        # truncated file still fails, at a fraction of the cost.
        im.draft("RGB", (draft, draft))
    try:
        im.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
        raise ImageReadError(path, f"corrupt or truncated image: {err}") from None
    return im, (width, height)


def _decode_rgb(data: bytes, path: Path, max_pixels: int,
                draft: int | None = None) -> tuple[Image.Image, tuple[int, int]]:
    im, stored_size = _open(data, path, max_pixels, draft)
    with im:
        try:
            return to_rgb(im), stored_size
        except (OSError, ValueError) as err:
            raise ImageReadError(path, f"unsupported image mode {im.mode!r}: {err}") from None


def to_rgb(im: Image.Image) -> Image.Image:
    """Any PIL image as 8-bit RGB, upright (EXIF applied), transparency on white."""
    try:
        im = ImageOps.exif_transpose(im) or im
    except Exception:  # a broken EXIF block must not cost the image; keep it as stored
        pass
    mode = im.mode
    if mode.startswith("I;16") or mode in ("I", "F"):
        a = np.asarray(im)
        if mode == "F":
            a = np.clip(a, 0, 255)
        elif mode.startswith("I;16") or a.max(initial=0) > 255:
            # 16-bit data (PNG gray16 opens as I;16 or I): scale the full range, 65535 -> 255.
            a = np.clip(a.astype(np.float64), 0, 65535) / 257.0
        return Image.fromarray(np.round(a).astype(np.uint8), "L").convert("RGB")
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in im.info
    if has_alpha:
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, ALPHA_BACKGROUND + (255,))
        background.alpha_composite(rgba)
        return background.convert("RGB")
    return im if mode == "RGB" else im.convert("RGB")


def inspect_image(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageCheck:
    """Check one file (read once): its exclusion reason or None, content hash and size."""
    p = Path(path)
    try:
        data = _read_bytes(p)
        sha1 = hashlib.sha1(data).hexdigest()
        _, (width, height) = _decode_rgb(data, p, max_pixels, draft=64)
    except ImageReadError as err:
        return ImageCheck(str(path), err.reason)
    return ImageCheck(str(path), None, sha1, width, height)


def open_rgb(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS,
             draft: int | None = None) -> Image.Image:
    """``path`` as an upright 8-bit RGB PIL image (see the module notes); ``draft`` lets a
    JPEG decode at a reduced scale no smaller than ``draft`` x ``draft``.

    Raises:
        ImageReadError: naming the file and the reason.
    """
    p = Path(path)
    rgb, _ = _decode_rgb(_read_bytes(p), p, max_pixels, draft=draft)
    return rgb


def read_image(path: str | Path, size: int | None = None, *,
               max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read ``path`` as uint8 RGB (H, W, 3); resized to ``size`` x ``size`` if given.

    Raises:
        ImageReadError: naming the file and why it cannot be read (its ``reason`` is what
            :func:`inspect_image` returns).
    """
    rgb = open_rgb(path, max_pixels=max_pixels, draft=size)
    if size is not None and rgb.size != (size, size):
        rgb = rgb.resize((size, size), Image.BILINEAR)
    return np.asarray(rgb, dtype=np.uint8)


def load_images(paths: Sequence[str | Path], size: int, *, progress: bool = False,
                max_pixels: int = DEFAULT_MAX_PIXELS, cache: bool | DiskCache = True,
                content_key: str | None = None, workers: int | None = None) -> np.ndarray:
    """Read every path into one (N, size, size, 3) uint8 array, decoding each file once.

    With ``cache`` (default True: the ``images_u8`` :class:`~emo_lib.cache.DiskCache`; or a
    DiskCache) the array is the uint8 image cache: a ``.npy`` file keyed by the files' content
    (``content_key``, e.g. the synthetic generator's key, else the sha1 of every file), the
    size and the decoder's code (this module's), written once (atomically: decoded into a
    temporary file that is renamed into place) and returned memory-mapped copy-on-write, so the
    next load, and every worker process, reads pixels from disk without decoding anything or
    holding the whole set in memory. ``cache=False``: decoded into memory (nothing written).
    Decoding runs in ``workers`` threads (PIL releases the GIL); the pixels are
    :func:`read_image`'s either way.

    Raises :class:`ImageReadError` on the first unreadable file (check data sets with the
    adapters, which exclude such files, before loading them here).
    """
    paths = [str(p) for p in paths]
    if cache is False or cache is None:
        out = np.empty((len(paths), size, size, 3), dtype=np.uint8)
        _decode_into(out, paths, size, max_pixels, progress, workers)
        return out
    store = image_cache() if cache is True else cache
    path = store.path(image_cache_key(paths, size, content_key=content_key,
                                      max_pixels=max_pixels) + ".u8.npy")
    cached = store.read(path, lambda p: _open_cached(p, (len(paths), size, size, 3)))
    if cached is not None:
        return cached

    def writer(tmp: Path) -> None:
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8,
                                        shape=(len(paths), size, size, 3))
        _decode_into(out, paths, size, max_pixels, progress, workers)
        out.flush()
        del out
    store.write(path, writer)
    return _open_cached(path, (len(paths), size, size, 3))


def image_cache() -> DiskCache:
    """The uint8 image cache (``$EMO_CACHE/images_u8``), keyed by the decoder's code (this
    module and what it imports from emo_lib): a change to decoding or resizing misses."""
    return DiskCache("images_u8", code=(__name__,))


def image_cache_key(paths: Sequence[str | Path], size: int, *, content_key: str | None = None,
                    max_pixels: int = DEFAULT_MAX_PIXELS) -> str:
    """The uint8 cache key of these files at this size: their content (``content_key``, or
    every file's sha1 in order), the count, the size, the decode guard and the code."""
    content = content_key if content_key is not None else \
        hashlib.sha256("\n".join(file_sha1(p) for p in paths).encode()).hexdigest()
    return image_cache().key({"content": content, "n": len(paths), "size": int(size),
                              "max_pixels": int(max_pixels)}, length=40)


def cached_image_key(images: np.ndarray) -> str | None:
    """The cache key ``images`` was loaded under, when it is a whole uint8-cache file (as
    :func:`load_images` returns it), else None: a cheap content id for the array."""
    path = npy_file_of(images)
    if path is None or not path.name.endswith(".u8.npy"):
        return None
    return path.name[: -len(".u8.npy")]


def _open_cached(path: Path, shape: tuple[int, ...]) -> np.ndarray:
    arr = open_npy(path)
    if arr.shape != shape or arr.dtype != np.uint8:
        raise ValueError(f"holds {arr.dtype} {arr.shape}, expected uint8 {shape}")
    return arr


def _decode_into(out: np.ndarray, paths: Sequence[str], size: int, max_pixels: int,
                 progress: bool, workers: int | None) -> None:
    workers = workers or min(8, os.cpu_count() or 1)

    def read(i: int) -> None:
        out[i] = read_image(paths[i], size, max_pixels=max_pixels)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in tqdm(pool.map(read, range(len(paths))), total=len(paths), desc="read images",
                      disable=not progress):
            pass


def file_sha1(path: str | Path) -> str:
    """Content hash of a file (duplicate detection, cache keys)."""
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class CheckCache:
    """A per-file memo of :func:`inspect_image`, keyed by (path, size, mtime, max_pixels).

    Re-checking tens of thousands of files on every build costs minutes; a file that has not
    changed (same size and modification time) keeps its verdict. One JSON entry of the
    ``image_checks`` :class:`~emo_lib.cache.DiskCache` per data-set root (atomic writes; a
    damaged entry is reported and rebuilt, never trusted).
    """

    def __init__(self, root_key: str | None) -> None:
        self.store = DiskCache("image_checks", code=(__name__,))   # inspect_image's code
        self.file = None if root_key is None else \
            self.store.path(self.store.key(root_key, length=16) + ".json")
        self.entries: dict[str, list] = {}
        self.dirty = False
        if self.file is not None:
            loaded = self.store.read_json(self.file)
            self.entries = (loaded or {}).get("entries", {})

    @staticmethod
    def _stamp(path: str, max_pixels: int) -> list | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return [st.st_size, st.st_mtime_ns, max_pixels]

    def get(self, path: str, max_pixels: int) -> ImageCheck | None:
        entry = self.entries.get(path)
        stamp = self._stamp(path, max_pixels)
        if entry is None or stamp is None or entry[:3] != stamp:
            return None
        reason, sha1, width, height = entry[3:]
        return ImageCheck(path, reason, sha1, width, height)

    def put(self, check: ImageCheck, max_pixels: int) -> None:
        stamp = self._stamp(check.path, max_pixels)
        # Access errors are not cached: fixing permissions must not need a cache purge.
        if stamp is None or (check.reason or "").startswith("cannot read"):
            return
        self.entries[check.path] = stamp + [check.reason, check.sha1, check.width, check.height]
        self.dirty = True

    def save(self) -> None:
        if self.file is None or not self.dirty:
            return
        self.store.write_json(self.file, {"entries": self.entries})
        self.dirty = False


def check_images(paths: Iterable[str | Path], *, max_pixels: int = DEFAULT_MAX_PIXELS,
                 cache_key: str | None = None, progress: bool = False,
                 workers: int | None = None) -> list[ImageCheck]:
    """:func:`inspect_image` for many files, in order; threaded (PIL releases the GIL while
    decoding) and memoised on disk under ``cache_dir("image_checks")`` when ``cache_key``
    (e.g. the data-set root) is given."""
    paths = [str(p) for p in paths]
    cache = CheckCache(cache_key)
    results: list[ImageCheck | None] = [cache.get(p, max_pixels) for p in paths]
    todo = [i for i, r in enumerate(results) if r is None]
    workers = workers or min(8, os.cpu_count() or 1)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        done = pool.map(lambda i: inspect_image(paths[i], max_pixels), todo)
        for i, check in zip(todo, tqdm(done, total=len(todo), desc="check images",
                                       disable=not progress or not todo)):
            results[i] = check
            cache.put(check, max_pixels)
    cache.save()
    return [r for r in results if r is not None]
