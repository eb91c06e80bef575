"""The uint8 image cache (emo_lib.data.images.load_images): decoded once, memory-mapped,
written atomically, keyed by content and size; load_se30k8 reads from it."""
import logging

import numpy as np
import pytest
from PIL import Image

from emo_lib.data import images as images_mod
from emo_lib.data.images import ImageReadError, load_images


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EMO_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def write_pngs(folder, n=5, size=20, seed=0):
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        p = folder / f"{i}.png"
        Image.fromarray(rng.integers(0, 256, (size, size + 4, 3), dtype=np.uint8)).save(p)
        paths.append(p)
    return paths


def test_decoded_once_memory_mapped_and_equal_to_reading(tmp_path, cache, monkeypatch):
    paths = write_pngs(tmp_path)
    first = load_images(paths, 16)
    assert isinstance(first, np.memmap) and first.shape == (5, 16, 16, 3)
    expected = np.stack([images_mod.read_image(p, 16) for p in paths])
    np.testing.assert_array_equal(first, expected)
    np.testing.assert_array_equal(load_images(paths, 16, cache=False), expected)
    (entry,) = (cache / "images_u8").glob("*.u8.npy")
    assert str(first.filename) == str(entry)

    def no_decoding(*args, **kwargs):
        raise AssertionError("decoded again")

    monkeypatch.setattr(images_mod, "read_image", no_decoding)
    again = load_images(paths, 16)
    np.testing.assert_array_equal(again, expected)
    again[0, 0, 0, 0] ^= 255                     # copy-on-write: the file never changes
    np.testing.assert_array_equal(load_images(paths, 16), expected)


def test_keyed_by_content_and_size(tmp_path, cache):
    paths = write_pngs(tmp_path)
    load_images(paths, 16)
    load_images(paths, 12)
    Image.fromarray(np.zeros((20, 24, 3), dtype=np.uint8)).save(paths[2])   # new content
    changed = load_images(paths, 16)
    assert changed[2].max() == 0
    assert len(list((cache / "images_u8").glob("*.u8.npy"))) == 3
    # a content key given by the caller replaces hashing the files
    key_a = images_mod.image_cache_key(paths, 16, content_key="gen:abc")
    assert key_a == images_mod.image_cache_key(paths[::-1], 16, content_key="gen:abc")
    assert key_a != images_mod.image_cache_key(paths, 16, content_key="gen:abd")
    assert key_a != images_mod.image_cache_key(paths, 16)


def test_damaged_entry_is_decoded_again_and_a_failed_decode_leaves_nothing(tmp_path, cache,
                                                                            caplog):
    paths = write_pngs(tmp_path)
    load_images(paths, 16)
    (entry,) = (cache / "images_u8").glob("*.u8.npy")
    entry.write_bytes(entry.read_bytes()[:100])
    with caplog.at_level(logging.WARNING):
        again = load_images(paths, 16)
    assert "unreadable entry" in caplog.text and again.shape == (5, 16, 16, 3)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    with pytest.raises(ImageReadError):
        load_images([*paths, broken], 16)
    assert len(list((cache / "images_u8").iterdir())) == 1   # no partial entry left


def test_load_se30k8_reads_the_synthetic_set_through_the_cache(cache):
    from emo_lib import jeong2021 as jg
    from emo_lib.train.crossval import data_fingerprint

    manifest, images, labels = jg.load_se30k8("synthetic:se30k8_like", scale=0.002,
                                              image_size=16)
    assert isinstance(images, np.memmap) and images.shape == (len(manifest), 16, 16, 3)
    assert jg.content_key(manifest).startswith("synthetic:se30k8_like:")
    key = images_mod.image_cache_key(manifest.frame["path"], 16,
                                     content_key=jg.content_key(manifest))
    assert str(images.filename).endswith(f"{key}.u8.npy")
    np.testing.assert_array_equal(images[3], images_mod.read_image(manifest.frame["path"][3], 16))
    assert data_fingerprint(images, labels).startswith(f"u8-{key[:24]}")
