"""Bad and unusual image files: each gets a clear reason, or is read into proper uint8 RGB."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from emo_lib.data import images as im_mod
from emo_lib.data.images import (
    ImageReadError, check_images, inspect_image, load_images, read_image,
)

try:  # tests/ may or may not be a package
    from . import fakes
except ImportError:
    import fakes


@pytest.fixture(autouse=True)
def _cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMO_CACHE", str(tmp_path / "cache"))


def test_good_file_reads_and_resizes(tmp_path: Path) -> None:
    p = fakes.write_image(tmp_path / "ok.png", side=24)
    assert inspect_image(p).reason is None
    a = read_image(p)
    assert a.dtype == np.uint8 and a.shape == (24, 24, 3)
    np.testing.assert_array_equal(a, fakes.noise("ok.png"))
    assert read_image(p, 10).shape == (10, 10, 3)


def test_truncated_jpeg(tmp_path: Path) -> None:
    p = fakes.truncated_jpeg(tmp_path / "cut.jpg")
    assert "truncated" in inspect_image(p).reason
    with pytest.raises(ImageReadError, match="cut.jpg.*truncated"):
        read_image(p)


def test_corrupt_jpeg(tmp_path: Path) -> None:
    p = fakes.corrupt_jpeg(tmp_path / "bad.jpg")
    reason = inspect_image(p).reason
    assert reason is not None and ("not an image" in reason or "corrupt" in reason)


def test_zero_byte_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.jpg"
    p.write_bytes(b"")
    assert inspect_image(p).reason == "empty file (0 bytes)"


def test_non_image_with_image_extension(tmp_path: Path) -> None:
    p = fakes.html_as_jpeg(tmp_path / "page.jpg")
    assert inspect_image(p).reason.startswith("not an image")
    with pytest.raises(ImageReadError, match="page.jpg"):
        read_image(p)


def test_cmyk_jpeg_is_converted(tmp_path: Path) -> None:
    p = tmp_path / "cmyk.jpg"
    Image.new("CMYK", (16, 16), (255, 0, 0, 0)).save(p, quality=95)  # pure cyan
    assert Image.open(p).mode == "CMYK"
    a = read_image(p)
    assert a.shape == (16, 16, 3)
    r, g, b = a.reshape(-1, 3).mean(0)
    assert r < 40 and g > 215 and b > 215


def test_16bit_png_is_scaled_not_clipped(tmp_path: Path) -> None:
    p = tmp_path / "deep.png"
    values = np.array([[0, 257 * 64, 257 * 128, 65535]], dtype=np.uint16).repeat(4, 0)
    Image.fromarray(values).save(p)
    assert Image.open(p).mode.startswith("I")
    a = read_image(p)
    np.testing.assert_array_equal(a[0, :, 0], [0, 64, 128, 255])
    assert (a[..., 0] == a[..., 2]).all()


def test_rgba_is_composited_on_white(tmp_path: Path) -> None:
    p = tmp_path / "alpha.png"
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[:2] = (255, 0, 0, 0)       # transparent red: must not show red
    rgba[2:] = (0, 0, 255, 255)     # opaque blue
    Image.fromarray(rgba, "RGBA").save(p)
    a = read_image(p)
    np.testing.assert_array_equal(a[0, 0], [255, 255, 255])
    np.testing.assert_array_equal(a[3, 3], [0, 0, 255])


def test_grayscale(tmp_path: Path) -> None:
    p = tmp_path / "gray.png"
    Image.fromarray(np.full((5, 5), 77, np.uint8), "L").save(p)
    a = read_image(p)
    assert a.shape == (5, 5, 3) and (a == 77).all()


def test_palette_png_with_and_without_transparency(tmp_path: Path) -> None:
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[:, 2:] = (0, 200, 0)
    pal = Image.fromarray(rgb).convert("P", palette=Image.ADAPTIVE, colors=2)
    pal.save(tmp_path / "pal.png")
    a = read_image(tmp_path / "pal.png")
    np.testing.assert_array_equal(a[0, 3], [0, 200, 0])
    black = pal.getpixel((0, 0))
    pal.save(tmp_path / "pal_t.png", transparency=black)
    b = read_image(tmp_path / "pal_t.png")
    np.testing.assert_array_equal(b[0, 0], [255, 255, 255])
    np.testing.assert_array_equal(b[0, 3], [0, 200, 0])


def test_exif_rotated_photo_is_turned_upright(tmp_path: Path) -> None:
    stored = np.zeros((16, 32, 3), np.uint8)   # 32 wide, 16 tall; right half white
    stored[:, 16:] = 255
    p = tmp_path / "phone.jpg"
    im = Image.fromarray(stored)
    exif = im.getexif()
    exif[0x0112] = 6                           # "rotate 90 clockwise to display"
    im.save(p, exif=exif, quality=95)
    assert inspect_image(p).reason is None              # rotated, never excluded
    a = read_image(p)
    assert a.shape == (32, 16, 3)
    assert a[:12].mean() < 30 and a[-12:].mean() > 225   # left half went to the top


def test_decompression_bomb_header(tmp_path: Path) -> None:
    p = fakes.huge_png_header(tmp_path / "bomb.png")   # claims 100000 x 100000 pixels
    reason = inspect_image(p).reason
    assert reason.startswith("image too large") and "max_pixels" in reason


def test_pixel_limit_parameter(tmp_path: Path) -> None:
    p = fakes.huge_png_header(tmp_path / "big.png", 5000, 4000)
    assert "5000 x 4000 = 20,000,000 pixels exceeds max_pixels=1,000,000" in \
        inspect_image(p, max_pixels=1_000_000).reason
    small = fakes.write_image(tmp_path / "small.png", side=24)
    assert inspect_image(small, max_pixels=24 * 24).reason is None
    assert "exceeds max_pixels=100" in inspect_image(small, max_pixels=100).reason


def test_unreadable_file(tmp_path: Path) -> None:
    p = fakes.write_image(tmp_path / "locked.jpg")
    os.chmod(p, 0)
    try:
        try:
            with open(p, "rb"):
                pass
            pytest.skip("running as root (or on a file system without permissions): "
                        "chmod 000 does not stop reading")
        except PermissionError:
            pass
        assert inspect_image(p).reason == "cannot read file: permission denied"
    finally:
        os.chmod(p, 0o644)


def test_permission_denied_reason_without_chmod(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # The same code path as the chmod test, reachable when tests run as root.
    p = fakes.write_image(tmp_path / "locked.jpg")
    real = Path.read_bytes

    def deny(self: Path) -> bytes:
        if self.name == "locked.jpg":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", deny)
    assert inspect_image(p).reason == "cannot read file: permission denied"
    with pytest.raises(ImageReadError, match="locked.jpg: cannot read file"):
        read_image(p)


def test_content_hash_and_size(tmp_path: Path) -> None:
    a = fakes.write_image(tmp_path / "a.png")
    b = tmp_path / "b.png"
    b.write_bytes(a.read_bytes())
    ca, cb = inspect_image(a), inspect_image(b)
    assert ca.sha1 == cb.sha1 and (ca.width, ca.height) == (fakes.SIDE, fakes.SIDE)
    assert inspect_image(fakes.write_image(tmp_path / "c.png")).sha1 != ca.sha1


def test_load_images_names_the_bad_file(tmp_path: Path) -> None:
    good = fakes.write_images(tmp_path, ["a.png", "b.jpg"])
    assert load_images(good, 8).shape == (2, 8, 8, 3)
    bad = fakes.html_as_jpeg(tmp_path / "c.jpg")
    with pytest.raises(ImageReadError, match="c.jpg"):
        load_images(good + [bad], 8)


def test_check_cache_reuses_and_invalidates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            ) -> None:
    paths = fakes.write_images(tmp_path / "d", ["a.png", "b.png"])
    first = check_images(paths, cache_key="root")
    calls = []
    real = im_mod.inspect_image
    monkeypatch.setattr(im_mod, "inspect_image", lambda p, m: calls.append(p) or real(p, m))
    assert check_images(paths, cache_key="root") == first and calls == []
    paths[1].write_bytes(b"")          # changed file: re-checked, new verdict
    again = check_images(paths, cache_key="root")
    assert calls == [str(paths[1])] and again[1].reason == "empty file (0 bytes)"
