"""emo_lib.data.fingerprint: a stat-based fingerprint that changes exactly when files do."""
import hashlib
import os

import pytest

from emo_lib.data import DatasetNotFound
from emo_lib.data.fingerprint import dataset_fingerprint, tree_fingerprint


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "data"
    (root / "happy").mkdir(parents=True)
    (root / "sad").mkdir()
    (root / "happy" / "a.png").write_bytes(b"12345")
    (root / "sad" / "b.png").write_bytes(b"xy")
    os.utime(root / "happy" / "a.png", ns=(1_000_000_000, 1_000_000_000))
    os.utime(root / "sad" / "b.png", ns=(2_000_000_000, 2_000_000_000))
    return root


def test_digest_is_the_documented_hash_of_path_size_mtime(tree):
    expected = hashlib.sha256(b"happy/a.png\t5\t1000000000\nsad/b.png\t2\t2000000000\n")
    assert tree_fingerprint(tree) == {"files": 2, "bytes": 7, "digest": expected.hexdigest()}


def test_fingerprint_changes_when_a_file_is_added_removed_resized_or_touched(tree):
    base = tree_fingerprint(tree)["digest"]
    assert tree_fingerprint(tree)["digest"] == base        # stable
    seen = {base}
    os.utime(tree / "sad" / "b.png", ns=(3_000_000_000, 3_000_000_000))
    seen.add(tree_fingerprint(tree)["digest"])
    (tree / "sad" / "b.png").write_bytes(b"xyz")          # resized (and re-timed)
    seen.add(tree_fingerprint(tree)["digest"])
    (tree / "sad" / "c.png").write_bytes(b"")             # added
    seen.add(tree_fingerprint(tree)["digest"])
    (tree / "happy" / "a.png").unlink()                   # removed
    seen.add(tree_fingerprint(tree)["digest"])
    assert len(seen) == 5


def test_same_content_elsewhere_same_fingerprint_and_renames_count(tree, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(tree, copy, copy_function=shutil.copy2)   # copy2 keeps mtimes
    assert tree_fingerprint(copy) == tree_fingerprint(tree)   # relative paths only
    (copy / "sad" / "b.png").rename(copy / "sad" / "renamed.png")
    assert tree_fingerprint(copy)["digest"] != tree_fingerprint(tree)["digest"]


def test_link_cycle_is_walked_once(tree):
    (tree / "happy" / "loop").symlink_to(tree, target_is_directory=True)
    fp = tree_fingerprint(tree)
    assert fp["files"] == 2


def test_file_root_is_the_file_alone(tmp_path):
    table = tmp_path / "list.csv"
    table.write_text("path,label\n")
    assert tree_fingerprint(table)["files"] == 1


def test_dataset_fingerprint_synthetic_and_real(tree, tmp_path):
    synthetic = dataset_fingerprint("synthetic:cafe_like", "", {"n": 3})
    assert synthetic["synthetic"] and synthetic["options"] == {"n": 3}
    assert "digest" not in synthetic        # nothing on disk to look at
    real = dataset_fingerprint("folder", str(tree))
    assert not real["synthetic"] and real["root"] == str(tree)
    assert real["digest"] == tree_fingerprint(tree)["digest"]
    with pytest.raises(DatasetNotFound, match="does not exist"):
        dataset_fingerprint("folder", str(tmp_path / "nowhere"))
