"""The data contract: validation errors name the rows at fault; counts add up."""
import pandas as pd
import pytest

from emo_lib.data import (
    DatasetNotFound, ManifestError, canonical_label, check_available, make_manifest,
    synthetic_options,
)


def frame(**overrides):
    base = {
        "path": ["a.png", "b.png", "c.png"],
        "label": ["happy", "sad", "angry"],
        "gender": ["male", "female", "female"],
        "age_group": ["child", "child", "child"],
        "subject_id": ["1", "1", "2"],
        "dataset": ["t", "t", "t"],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_valid_manifest_counts_and_class_order():
    excl = pd.DataFrame({"path": ["d.png"], "reason": ["zero-byte file"]})
    m = make_manifest(frame(), name="t", exclusions=excl)
    assert m.classes == ("angry", "happy", "sad")  # canonical order, not appearance order
    assert len(m) == 3 and m.n_found == 4
    counts = m.counts("gender")
    assert counts.loc["female", "sad"] == 1 and counts.loc["total", "total"] == 3


def test_missing_column_is_named():
    with pytest.raises(ManifestError, match="subject_id"):
        make_manifest(frame().drop(columns="subject_id"), name="t")


def test_unknown_label_names_row():
    with pytest.raises(ManifestError, match=r"unknown label.*'joyful'.*row 1"):
        make_manifest(frame(label=["happy", "joyful", "angry"]), name="t", source="x.csv")


def test_duplicate_path_names_rows():
    with pytest.raises(ManifestError, match=r"duplicate path 'a.png' at rows 0, 2"):
        make_manifest(frame(path=["a.png", "b.png", "a.png"]), name="t")


def test_empty_label_names_row():
    with pytest.raises(ManifestError, match=r"empty 'label' at row 2"):
        make_manifest(frame(label=["happy", "sad", None]), name="t")


def test_bad_gender_names_row():
    with pytest.raises(ManifestError, match=r"gender 'x' at row 0"):
        make_manifest(frame(gender=["x", "female", "male"]), name="t")


def test_custom_classes_and_label_outside_them():
    m = make_manifest(frame(label=["awe", "fear", "awe"]), name="t", classes=["awe", "fear"])
    assert m.classes == ("awe", "fear")
    with pytest.raises(ManifestError, match="'fear' at row 1"):
        make_manifest(frame(label=["awe", "fear", "awe"]), name="t", classes=["awe"])


def test_canonical_label_aliases():
    assert canonical_label("Afraid") == "fear"
    assert canonical_label(" happiness ") == "happy"
    assert canonical_label("angryopen") is None  # mouth variants are the CAFE adapter's job


def test_fingerprint_changes_with_labels():
    a = make_manifest(frame(), name="t").fingerprint()
    b = make_manifest(frame(label=["happy", "sad", "sad"]), name="t").fingerprint()
    assert a != b


def test_missing_root_says_which_variable(monkeypatch):
    monkeypatch.delenv("CAFE_ROOT", raising=False)
    with pytest.raises(DatasetNotFound, match="CAFE_ROOT"):
        check_available("cafe", None)
    monkeypatch.setenv("CAFE_ROOT", "/nonexistent/cafe")
    with pytest.raises(DatasetNotFound, match="/nonexistent/cafe"):
        check_available("cafe", None)


def test_synthetic_options_only_for_synthetic():
    assert synthetic_options("synthetic:cafe_like", size=32) == {"size": 32}
    assert synthetic_options("cafe", size=32) == {}
