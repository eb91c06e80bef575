"""Adapters on fake trees: labels, metadata, exclusions (with reasons), counts, errors."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from emo_lib.data import DatasetNotFound, ManifestError, load_dataset
from emo_lib.data.adapters import cafe, nimh_chefs

try:  # tests/ may or may not be a package
    from . import fakes
except ImportError:
    import fakes


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMO_CACHE", str(tmp_path / "cache"))
    for var in ("CAFE_ROOT", "NIMH_CHEFS_ROOT", "SE30K8_ROOT"):
        monkeypatch.delenv(var, raising=False)


def load(name: str, root: Path, **opts):
    return load_dataset(name, root, progress=False, **opts)


def reasons(m) -> dict[str, str]:
    return {Path(p).name: r for p, r in zip(m.exclusions["path"], m.exclusions["reason"])}


def n_images(root: Path) -> int:
    return sum(1 for p in root.rglob("*") if p.suffix.lower() in (".jpg", ".png"))


# --- missing roots ------------------------------------------------------------------------------

@pytest.mark.parametrize("name,var,where", [
    ("cafe", "CAFE_ROOT", "databrary"), ("nimh_chefs", "NIMH_CHEFS_ROOT", "Egger"),
    ("se30k8", "SE30K8_ROOT", "StockEmotion"),
])
def test_missing_root_says_which_variable_and_where_from(name, var, where, tmp_path,
                                                        monkeypatch) -> None:
    with pytest.raises(DatasetNotFound, match=var) as err:
        load_dataset(name)
    assert where.lower() in str(err.value).lower()
    monkeypatch.setenv(var, str(tmp_path / "nowhere"))
    with pytest.raises(DatasetNotFound, match=f"nowhere.*{var}"):
        load_dataset(name)


@pytest.mark.parametrize("name", ["folder", "csv"])
def test_missing_root_for_own_data(name, tmp_path) -> None:
    with pytest.raises(DatasetNotFound, match="root"):
        load_dataset(name)
    with pytest.raises(DatasetNotFound, match="does not exist"):
        load_dataset(name, tmp_path / "missing")


# --- CAFE ---------------------------------------------------------------------------------------

def test_cafe_with_description_csv(tmp_path) -> None:
    fakes.cafe_tree(tmp_path, n_children=3)
    m = load("cafe", tmp_path)
    assert m.classes == ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
    assert len(m) == 30 and m.exclusions.empty and m.n_found == n_images(tmp_path)
    f = m.frame.set_index(m.frame["path"].map(lambda p: Path(p).name))
    row = f.loc["002_angryopen_M.jpg"]
    assert (row.label, row.mouth, row.gender, row.age_group) == ("angry", "open", "male", "child")
    assert (row.subject_id, row.ethnicity, row.age) == ("C002", "Asian", "5")
    assert f.loc["001_fearful_F.jpg", "mouth"] == "unknown"
    assert m.counts("gender").loc["total", "total"] == 30
    assert m.meta["layout"] == "description csv"


def test_cafe_csv_problems_are_exclusions(tmp_path) -> None:
    fakes.cafe_tree(tmp_path, n_children=2, with_csv=False)
    fakes.write_image(tmp_path / "Extra" / "unlisted.jpg")
    rows = [[p.name, p.stem.split("_")[1], p.parent.name, "F"]
            for p in sorted(tmp_path.rglob("*.jpg")) if p.name != "unlisted.jpg"]
    rows[0][1] = "grumpy"                                   # unknown emotion token
    rows.append(["999_sad_F.jpg", "sad", "Sad", "F"])       # listed, not on disk
    fakes.write_csv(tmp_path / "meta.csv", ["File_Name", "Emotion", "SubFolder", "Sex"], rows)
    m = load("cafe", tmp_path)
    r = reasons(m)
    assert "unknown emotion 'grumpy'" in r[rows[0][0]]
    assert r["unlisted.jpg"] == "not listed in meta.csv"
    assert "no such file" in r["999_sad_F.jpg"]
    assert len(m) == 19 and m.n_found == n_images(tmp_path) + 1   # + the missing listed row
    assert set(m.frame["gender"]) == {"female"}


def test_cafe_from_file_names_and_undeterminable_labels(tmp_path) -> None:
    fakes.cafe_tree(tmp_path, n_children=2, with_csv=False)
    fakes.write_images(tmp_path / "misc", ["003_F.jpg", "004_happy_sad_M.jpg",
                                           "005_angry_open_F.jpg"])
    m = load("cafe", tmp_path)
    r = reasons(m)
    assert r["003_F.jpg"].startswith("label not determined: no emotion token")
    assert "conflicting" in r["004_happy_sad_M.jpg"]
    row = m.frame[m.frame["path"].str.endswith("005_angry_open_F.jpg")].iloc[0]
    assert (row.label, row.mouth, row.gender, row.subject_id) == ("angry", "open", "female",
                                                                   "005")
    assert len(m) == 21 and m.n_found == n_images(tmp_path)
    assert m.meta["layout"] == "file names"


def test_cafe_label_from_folder_when_name_has_none(tmp_path) -> None:
    fakes.write_images(tmp_path / "Disgust", ["a1.jpg"])
    fakes.cafe_tree(tmp_path / "rest", n_children=1, with_csv=False)
    m = load("cafe", tmp_path)
    assert m.frame.set_index("label").loc["disgust", "path"].tolist().__len__() == 2


def test_cafe_manifest_override(tmp_path) -> None:
    fakes.cafe_tree(tmp_path / "data", n_children=1)
    chosen = sorted((tmp_path / "data").rglob("*.jpg"))[:4]
    rows = [[p.relative_to(tmp_path / "data").as_posix(), p.stem.split("_")[1], "girl"]
            for p in chosen]
    csv = fakes.write_csv(tmp_path / "paper_subset.csv", ["path", "label", "gender"], rows)
    m = load("cafe", tmp_path / "data", manifest=csv)
    assert len(m) == 4 and m.exclusions.empty
    assert set(m.frame["gender"]) == {"female"} and set(m.frame["age_group"]) == {"child"}
    assert "mouth" in m.frame.columns


def test_cafe_missing_class_is_an_error_naming_root(tmp_path) -> None:
    fakes.cafe_tree(tmp_path, n_children=1, with_csv=False)
    for p in tmp_path.rglob("*surprise*"):
        p.unlink()
    with pytest.raises(ManifestError, match=f"{tmp_path}.*surprise"):
        load("cafe", tmp_path)


def test_cafe_token_parser() -> None:
    assert cafe.parse_token("AngryOpen") == ("angry", {"mouth": "open"})
    assert cafe.parse_token("neutral_closed") == ("neutral", {"mouth": "closed"})
    assert cafe.parse_token("fearful") == ("fear", {"mouth": "unknown"})
    assert cafe.parse_token("Happy (open mouth)") == ("happy", {"mouth": "open"})
    assert cafe.parse_token("opendoor") is None and cafe.parse_token("") is None


# --- NIMH-ChEFS ---------------------------------------------------------------------------------

def test_nimh_names_gaze_and_counts(tmp_path) -> None:
    fakes.nimh_tree(tmp_path)
    m = load("nimh_chefs", tmp_path)
    assert m.classes == ("angry", "fear", "happy", "neutral", "sad")
    assert len(m) == 30 and m.exclusions.empty
    row = m.frame[m.frame["path"].str.contains("M10HS_")].iloc[0]
    assert (row.label, row.gender, row.gaze, row.subject_id, row.age_group) == \
        ("happy", "male", "direct", "M10", "adolescent")
    assert m.frame["gaze"].value_counts().to_dict() == {"averted": 15, "direct": 15}


def test_nimh_gaze_filter_logs_exclusions(tmp_path) -> None:
    fakes.nimh_tree(tmp_path)
    m = load("nimh_chefs", tmp_path, gaze="averted")
    assert len(m) == 15 and set(m.frame["gaze"]) == {"averted"}
    assert len(m.exclusions) == 15 and m.exclusions["reason"].str.startswith("gaze filter").all()
    with pytest.raises(ValueError, match="gaze="):
        load("nimh_chefs", tmp_path, gaze="sideways")


def test_nimh_unknown_tokens_are_exclusions(tmp_path) -> None:
    fakes.nimh_tree(tmp_path, subjects=("M10",), gazes="S")
    fakes.write_images(tmp_path, ["M10XS_1.jpg", "M10HQ_2.jpg", "portrait.jpg", "F3H_4.jpg"])
    fakes.write_images(tmp_path / "Averted gaze", ["F4N_5.jpg"])
    m = load("nimh_chefs", tmp_path)
    r = reasons(m)
    assert "unknown expression letter 'X'" in r["M10XS_1.jpg"]
    assert "unknown gaze letter 'Q'" in r["M10HQ_2.jpg"]
    assert "does not follow" in r["portrait.jpg"]
    gaze = dict(zip(m.frame["path"].map(lambda p: Path(p).name), m.frame["gaze"]))
    assert gaze["F3H_4.jpg"] == "unknown" and gaze["F4N_5.jpg"] == "averted"
    assert m.n_found == n_images(tmp_path)
    m2 = load("nimh_chefs", tmp_path, gaze_codes={"S": "direct", "Q": "averted"})
    assert "M10HQ_2.jpg" not in reasons(m2)


def test_nimh_name_pattern_reading() -> None:
    values, reason = nimh_chefs.parse_name(Path("/r/F12AA_5000.jpg"), Path("/r"),
                                           nimh_chefs.GAZE_CODES)
    assert reason is None and (values["label"], values["gaze"]) == ("angry", "averted")


# --- bad files, duplicates, counts (every adapter shares this path) ------------------------------

def test_bad_files_are_excluded_and_the_run_goes_on(tmp_path) -> None:
    fakes.nimh_tree(tmp_path, subjects=("M10", "F12"), gazes="S")
    fakes.truncated_jpeg(tmp_path / "M11AS_1.jpg")
    fakes.corrupt_jpeg(tmp_path / "M11FS_2.jpg")
    fakes.html_as_jpeg(tmp_path / "M11HS_3.jpg")
    fakes.huge_png_header(tmp_path / "M11NS_4.png")
    (tmp_path / "M11SS_5.jpg").write_bytes(b"")
    first = sorted(tmp_path.glob("M10A*.jpg"))[0]
    shutil.copy(first, tmp_path / "M13AS_9.jpg")                 # same bytes, other name
    (tmp_path / "README.txt").write_text("not an image, not counted")
    m = load("nimh_chefs", tmp_path)
    r = reasons(m)
    assert "truncated" in r["M11AS_1.jpg"]
    assert r["M11FS_2.jpg"].startswith(("not an image", "corrupt"))
    assert r["M11HS_3.jpg"].startswith("not an image")
    assert r["M11NS_4.png"].startswith("image too large")
    assert r["M11SS_5.jpg"] == "empty file (0 bytes)"
    assert r["M13AS_9.jpg"] == f"duplicate of {first}"
    assert len(m) == 10 and m.n_found == n_images(tmp_path) == 16
    assert m.meta["other_files"] == 1
    assert m.frame["content_hash"].is_unique


def test_no_usable_image_is_a_clear_error(tmp_path) -> None:
    fakes.html_as_jpeg(tmp_path / "M10HS_1.jpg")
    with pytest.raises(ManifestError, match=f"{tmp_path}.*no usable image.*not an image"):
        load("nimh_chefs", tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ManifestError, match="no image files at all"):
        load("se30k8", empty)


# --- SE30K8, folder, csv ------------------------------------------------------------------------

def test_se30k8_class_folders(tmp_path) -> None:
    fakes.class_folder_tree(tmp_path, per_class=[5, 1, 2, 2, 2, 2, 2, 3])
    m = load("se30k8", tmp_path)
    assert m.classes == tuple(sorted(c.lower() for c in fakes.SE_CLASSES))
    assert m.frame["label"].value_counts()["amusement"] == 5
    assert set(m.frame["gender"]) == {"unknown"} and set(m.frame["age_group"]) == {"unknown"}


def test_se30k8_csv_layout(tmp_path) -> None:
    paths = fakes.class_folder_tree(tmp_path / "imgs", classes=("Awe", "Fear"), per_class=3)
    rows = [[p.relative_to(tmp_path).as_posix(), p.parent.name.upper()] for p in paths[:-1]]
    fakes.write_csv(tmp_path / "labels.csv", ["path", "label"], rows)
    m = load("se30k8", tmp_path)
    assert m.classes == ("awe", "fear") and len(m) == 5
    assert reasons(m) == {paths[-1].name: "not listed in labels.csv"}


def test_folder_canonical_names_splits_and_stray_files(tmp_path) -> None:
    fakes.class_folder_tree(tmp_path / "train", classes=("Anger", "Happiness"), per_class=2)
    fakes.class_folder_tree(tmp_path / "test", classes=("Anger", "Happiness"), per_class=1)
    fakes.write_images(tmp_path, ["stray.png"])
    m = load("folder", tmp_path)
    assert m.classes == ("angry", "happy") and len(m) == 6
    assert m.frame["split"].value_counts().to_dict() == {"train": 4, "test": 2}
    assert reasons(m)["stray.png"].startswith("not in a class folder")
    keep = load("folder", tmp_path, canonical=False)
    assert keep.classes == ("anger", "happiness")


def test_folder_fixed_classes(tmp_path) -> None:
    fakes.class_folder_tree(tmp_path, classes=("cat", "dog", "owl"), per_class=1)
    m = load("folder", tmp_path, classes=["dog", "cat"], gender="female")
    assert m.classes == ("dog", "cat") and set(m.frame["gender"]) == {"female"}
    assert "not in classes" in reasons(m)["owl_0000.jpg"]
    with pytest.raises(ManifestError, match="emu"):
        load("folder", tmp_path, classes=["dog", "emu"])


def test_csv_adapter_reads_relative_paths_and_extras(tmp_path) -> None:
    paths = fakes.write_images(tmp_path / "img", ["a.png", "b.png", "c.png"])
    csv = fakes.write_csv(tmp_path / "list.csv",
                          ["path", "label", "gender", "age_group", "subject_id", "site"],
                          [["img/a.png", "Happy", "F", "child", "s1", "x"],
                           ["img/b.png", "sadness", "boy", "", "s2", "y"],
                           [str(paths[2]), "happy", "", "adult", "s1", "x"],
                           ["img/gone.png", "sad", "m", "adult", "s3", "z"]])
    m = load("csv", csv)
    assert m.classes == ("happy", "sad") and len(m) == 3
    assert m.frame["gender"].tolist() == ["female", "male", "unknown"]
    assert m.frame["age_group"].tolist() == ["child", "unknown", "adult"]
    assert m.frame["site"].tolist() == ["x", "y", "x"]
    assert "row 4 but the file does not exist" in reasons(m)["gone.png"]


def test_csv_fixed_classes(tmp_path) -> None:
    fakes.write_images(tmp_path, ["a.png", "b.png", "c.png"])
    csv = fakes.write_csv(tmp_path / "t.csv", ["path", "label"],
                          [["a.png", "Sadness"], ["b.png", "happy"], ["c.png", "fear"]])
    m = load("csv", csv, classes=["sad", "happy"])
    assert m.classes == ("sad", "happy") and m.frame["label"].tolist() == ["sad", "happy"]
    assert reasons(m) == {"c.png": "label 'fear' not in classes=['sad', 'happy']"}


@pytest.mark.parametrize("row,match", [
    (["img/a.png", ""], r"row 2 \(line 3\): empty label"),
    (["", "happy"], r"row 2 \(line 3\): empty path"),
    (["img/a.png", "happy", "robot"], r"row 2 .*gender 'robot'"),
    (["img/b.png", "happy", "f", "elderly"], r"row 2 .*age_group 'elderly'"),
])
def test_csv_bad_rows_name_the_row(tmp_path, row, match) -> None:
    fakes.write_images(tmp_path / "img", ["a.png", "b.png"])
    header = ["path", "label", "gender", "age_group"]
    first = ["img/b.png", "sad", "m", "child"] if row[0] != "img/b.png" else \
        ["img/a.png", "sad", "m", "child"]
    csv = fakes.write_csv(tmp_path / "t.csv", header,
                          [first, row + [""] * (4 - len(row))])
    with pytest.raises(ManifestError, match=match):
        load("csv", csv)


def test_csv_duplicate_row_and_missing_columns(tmp_path) -> None:
    fakes.write_images(tmp_path, ["a.png"])
    csv = fakes.write_csv(tmp_path / "t.csv", ["path", "label"],
                          [["a.png", "happy"], ["./a.png", "sad"]])
    with pytest.raises(ManifestError, match=r"row 2 .*already listed at .*row 1"):
        load("csv", csv)
    bad = fakes.write_csv(tmp_path / "u.csv", ["file", "what"], [["a.png", "x"]])
    with pytest.raises(ManifestError, match="needs columns 'path' and 'label'"):
        load("csv", bad)


def test_cafe_description_csv_in_a_windows_code_page(tmp_path) -> None:
    fakes.cafe_tree(tmp_path, n_children=3)
    csv = tmp_path / "CAFE_description.csv"
    text = csv.read_text().replace("European American", "Latiné")
    csv.write_bytes(text.encode("cp1252"))          # a spreadsheet export, not UTF-8
    m = load("cafe", tmp_path)
    assert len(m) == 30 and set(m.frame["ethnicity"]) == {"Asian", "Latiné"}
