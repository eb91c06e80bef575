"""The paper profile on fake data trees: real-data adapters, the face pipeline and the data-set
pages run end to end, and a missing data set stops the build before anything runs."""
import json
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from emo_lib import runner
from emo_lib.data.synthetic import render_face, sample_face
from fakes import cafe_label, cafe_tree, class_folder_tree, nimh_tree

ROOT = Path(__file__).resolve().parent.parent
NIMH_LETTERS = {"A": "angry", "F": "fear", "H": "happy", "N": "neutral", "S": "sad"}


def _facify(path: Path, label: str, seed: int) -> None:
    """Overwrite a fake image with a drawn face (the detector needs a face to find)."""
    spec, _ = sample_face(label, "child", "female", seed=seed)
    image, _ = render_face(spec, 128)
    Image.fromarray(image).save(path, quality=92)


def _copy_book(dst: Path) -> Path:
    dst.mkdir()
    for item in ("_config.yml", "_toc.yml", "book", "notebooks", "profiles"):
        src = ROOT / item
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dst / item)
    return dst


def test_paper_profile_names_missing_variables(monkeypatch, capsys, tmp_path):
    for var in ("CAFE_ROOT", "NIMH_CHEFS_ROOT", "SE30K8_ROOT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("EMO_BOOK_ROOT", str(_copy_book(tmp_path / "book")))
    assert runner.main(["check", "--profile", "paper"]) == 2
    err = capsys.readouterr().err
    for var in ("CAFE_ROOT", "NIMH_CHEFS_ROOT", "SE30K8_ROOT"):
        assert var in err, f"{var} not named in: {err}"


def face_trees(tmp_path: Path) -> tuple[list[Path], list[Path]]:
    """Small CAFE and NIMH-ChEFS trees under ``tmp_path`` (cafe/, nimh/) of drawn faces that
    MTCNN finds, labelled as the real names say; returns their files."""
    cafe = cafe_tree(tmp_path / "cafe", n_children=2)
    for i, p in enumerate(cafe):
        _facify(p, cafe_label(p), i)
    nimh = nimh_tree(tmp_path / "nimh", subjects=("M10", "F12"))
    for i, p in enumerate(nimh):
        _facify(p, NIMH_LETTERS[re.match(r"[MF]\d+(\w)", p.stem).group(1)], 100 + i)
    return list(cafe), list(nimh)


@pytest.mark.slow
def test_paper_profile_data_pages_on_fake_trees(tmp_path, monkeypatch, capsys):
    cafe, nimh = face_trees(tmp_path)
    class_folder_tree(tmp_path / "se30k8", per_class=[6, 5, 4, 3, 3, 3, 2, 2])
    monkeypatch.setenv("CAFE_ROOT", str(tmp_path / "cafe"))
    monkeypatch.setenv("NIMH_CHEFS_ROOT", str(tmp_path / "nimh"))
    monkeypatch.setenv("SE30K8_ROOT", str(tmp_path / "se30k8"))
    book = _copy_book(tmp_path / "book")
    monkeypatch.setenv("EMO_BOOK_ROOT", str(book))
    monkeypatch.setenv("EMO_RESULTS", str(book / "results"))
    monkeypatch.setenv("EMO_CACHE", str(tmp_path / "cache"))
    code = runner.main(["build", "--profile", "paper", "--only", "datasets_noh2023",
                        "datasets_jeong2021", "--no-book", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]
    noh = json.loads((book / "results" / "datasets_noh2023" / "results.json").read_text())
    assert not noh["synthetic"] and {d["name"] for d in noh["datasets"]} == {"cafe", "nimh_chefs"}
    found = {"cafe": len(cafe), "nimh_chefs": len(nimh)}
    for d in noh["datasets"]:   # counts in = used + excluded (faces not found are exclusions)
        assert d["images"] + d["excluded"] == found[d["name"]]
        assert d["images"] > 0
    se = json.loads((book / "results" / "datasets_jeong2021" / "results.json").read_text())
    assert se["values"]["se_images"] == 28 and se["values"]["se_ratio"] == 3.0


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_paper_profile_noh2023_pages_with_test_made_hsemotion_weights(tmp_path, monkeypatch,
                                                                     capsys):
    """Paper 1's five pages with the paper profile (hsemotion:mobilenet_7, the paper's Keras
    model, real-data adapters, the face detector) on fake trees and a MobileNet-v1 Keras file of
    the same shape the test writes with Keras 3. Its blob id is not the pinned one, so the run
    must say so: it is loaded only with trust_unverified."""
    import os

    import torch
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras
    from test_keras_h5 import mobilenet_emotion_model, randomize

    cafe = cafe_tree(tmp_path / "cafe", n_children=4)
    for i, p in enumerate(cafe):
        _facify(p, cafe_label(p), i)
    nimh = nimh_tree(tmp_path / "nimh", subjects=("M10", "F12"))
    for i, p in enumerate(nimh):
        _facify(p, NIMH_LETTERS[re.match(r"[MF]\d+(\w)", p.stem).group(1)], 100 + i)
    keras.utils.set_random_seed(3)
    weights = tmp_path / "mobilenet_7.h5"
    randomize(mobilenet_emotion_model(224), 3).save(weights)
    monkeypatch.setenv("CAFE_ROOT", str(tmp_path / "cafe"))
    monkeypatch.setenv("NIMH_CHEFS_ROOT", str(tmp_path / "nimh"))
    monkeypatch.setenv("SE30K8_ROOT", str(tmp_path))   # not used by these pages
    book = _copy_book(tmp_path / "book")
    monkeypatch.setenv("EMO_BOOK_ROOT", str(book))
    monkeypatch.setenv("EMO_RESULTS", str(book / "results"))
    monkeypatch.setenv("EMO_CACHE", str(tmp_path / "cache"))
    pages = ["noh2023_age_accuracy", "noh2023_gender_accuracy", "noh2023_lime_age",
             "noh2023_lime_gender", "noh2023_additional_training"]
    options = f"{{path: '{weights}', trust_unverified: true}}"
    overrides = [f"{p}.model_options={options}" for p in pages]
    for p in ("noh2023_lime_age", "noh2023_lime_gender"):
        overrides += [f"{p}.num_samples=20", f"{p}.images_per_class=1", f"{p}.stability_images=1",
                      f"{p}.stability_seeds=[0, 1]", f"{p}.permutations=20"]
    overrides += ["noh2023_additional_training.epochs=1", "noh2023_additional_training.folds=2",
                  "noh2023_additional_training.batch_size=8"]
    args = ["build", "--profile", "paper", "--only", *pages, "--no-book", "--quiet"]
    for o in overrides:
        args += ["-p", o]
    torch.set_num_threads(1)
    code = runner.main(args)
    out = capsys.readouterr().out
    assert code == 0, out[-4000:]
    for page in pages:
        record = json.loads((book / "results" / page / "results.json").read_text())
        assert not record["synthetic"], page
        assert record["params"]["model"] == "hsemotion:mobilenet_7"
        assert record["device"].startswith("cpu")   # cuda asked for, not available: recorded
