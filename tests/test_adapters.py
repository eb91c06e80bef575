"""Adapters on fake trees: labels, metadata, exclusions (with reasons), counts, errors."""
from __future__ import annotations

import re
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

#: The six names issue 10 quotes from the release, and what each must read as:
#: (label, variant, mouth, gender, ethnicity, subject_id, photo_suffix).
RELEASE_EXAMPLES = {
    "angry_F-AA-01.jpg": ("angry", "closed", "closed", "female", "AA", "F-AA-01", "none"),
    "angryopen_M-EA-06b.jpg": ("angry", "open", "open", "male", "EA", "M-EA-06", "b"),
    "disgustwithtongue_F-LA-03.jpg": ("disgust", "tongue", "open", "female", "LA", "F-LA-03",
                                      "none"),
    "fearful_M-SA-12.jpg": ("fear", "closed", "closed", "male", "SA", "M-SA-12", "none"),
    "neutral_F-PI-01.jpg": ("neutral", "closed", "closed", "female", "PI", "F-PI-01", "none"),
    "surprise_M-AS-04.jpg": ("surprise", "closed", "closed", "male", "AS", "M-AS-04", "none"),
    "neutral_F-LA-03-2.jpg": ("neutral", "closed", "closed", "female", "LA", "F-LA-03", "-2"),
    # the real release also has a set letter followed by a photo number (set b, second photo)
    "happy_M-EA-06b-2.jpg": ("happy", "closed", "closed", "male", "EA", "M-EA-06", "b-2"),
}
#: Release-named files the fake tree lacks, written by the tests that need them.
EXTRA_RELEASE_NAMES = ("happy_M-EA-06b-2.jpg", "sadopen_F-AS-04a-3.jpg")
RELEASE_COLUMNS = ["label", "variant", "mouth", "gender", "ethnicity", "subject_id",
                   "photo_suffix"]


def by_name(m):
    return m.frame.set_index(m.frame["path"].map(lambda p: Path(p).name))


def child_of(name: str) -> str:
    """The child a release name belongs to, read here independently of the adapter."""
    g, e, n = re.match(r"[a-z]+_([FM])-([A-Z]{2})-(\d+)", name).groups()
    return f"{g}-{e}-{int(n):02d}"


def test_cafe_release_names(tmp_path) -> None:
    paths = fakes.cafe_tree(tmp_path, n_children=8)
    bad = {"IMG_0001.jpg": "does not follow the release's naming",
           "grumpy_F-AA-01.jpg": "unknown emotion token 'grumpy'",
           "angry_F-XX-02.jpg": "unknown ethnicity code 'XX'",
           "angry_X-AA-02.jpg": "gender 'X'",
           "angry_F-AA-01_copy.jpg": "photo suffix '_copy'",
           "angry_F-AA-01-2b.jpg": "photo suffix '-2b'",      # the number comes last
           "angry_F-AA-01bc.jpg": "photo suffix 'bc'"}        # one set letter
    paths += fakes.write_images(tmp_path / "Extra", EXTRA_RELEASE_NAMES)
    fakes.write_images(tmp_path / "Misc", bad)
    m = load("cafe", tmp_path)
    assert m.meta["layout"] == "release file names"
    # nothing wrongly excluded: every well-named file is used, only the bad five are not
    assert sorted(m.frame["path"]) == sorted(map(str, paths))
    r = reasons(m)
    assert set(r) == set(bad)
    for name, why in bad.items():
        assert why in r[name] and "manifest=PATH" in r[name], r[name]
    assert "angryopen_M-EA-06b.jpg" in r["IMG_0001.jpg"]            # the reason shows the pattern
    assert m.n_found == n_images(tmp_path) == len(paths) + len(bad)
    f = by_name(m)
    for name, expected in RELEASE_EXAMPLES.items():
        assert tuple(f.loc[name, RELEASE_COLUMNS]) == expected, name
        assert f.loc[name, "age_group"] == "child"
    assert (f["label"] == f.index.map(fakes.cafe_label)).all()
    assert (f["subject_id"] == f.index.map(child_of)).all()
    # children who share a number are different children
    assert m.frame["subject_id"].nunique() == len(fakes.CAFE_CHILDREN) == 8
    assert {"F-AA-01", "M-AA-01", "F-PI-01", "M-AS-04", "F-AS-04"} <= set(m.frame["subject_id"])


def test_cafe_grouped_folds_never_put_a_child_on_both_sides(tmp_path) -> None:
    """Folds grouped by subject_id: every photo of a child (all poses, suffixed photos too) on
    one side; children who only share a number may be on different sides."""
    from emo_lib.train import grouped_folds

    fakes.cafe_tree(tmp_path, n_children=8)
    m = load("cafe", tmp_path)
    names = m.frame["path"].map(lambda p: Path(p).name)
    children = names.map(child_of).to_numpy()
    numbers = names.str.extract(r"-(\d+)")[0].to_numpy()
    assert len(set(numbers)) < len(set(children))     # numbers are shared across children
    split_by_number = False
    for train, test in grouped_folds(m.frame["label"], m.frame["subject_id"], k=4, seed=0):
        assert not set(children[train]) & set(children[test])
        split_by_number |= bool(set(numbers[train]) & set(numbers[test]))
    assert split_by_number    # ids are not the number alone: "01" children land apart


def test_cafe_variant_filter(tmp_path) -> None:
    paths = fakes.cafe_tree(tmp_path, n_children=3)
    closed = load("cafe", tmp_path, variant="closed")
    assert set(closed.frame["variant"]) == {"closed"} and set(closed.frame["mouth"]) == {"closed"}
    expected_closed = [p for p in paths if "open" not in p.name and "tongue" not in p.name]
    assert sorted(closed.frame["path"]) == sorted(map(str, expected_closed))
    r = reasons(closed)
    assert r["angryopen_M-EA-06b.jpg"] == "variant filter: variant open, kept only ['closed']"
    assert r["disgustwithtongue_F-AA-01.jpg"].startswith("variant filter: variant tongue")
    assert closed.n_found == len(paths) and closed.meta["variant_filter"] == ("closed",)
    no_tongue = load("cafe", tmp_path, variant=["closed", "open"])
    assert len(no_tongue) == len(paths) - 3 and "tongue" not in set(no_tongue.frame["variant"])
    for wrong in ("wide", ["closed", "shut"], []):
        with pytest.raises(ValueError, match=r"variant .*: .* the choices closed, open, "
                                             r"tongue, unknown"):
            load("cafe", tmp_path, variant=wrong)


def test_cafe_variant_counts_beside_table1(tmp_path) -> None:
    from emo_lib import paper
    from emo_lib.data import make_manifest

    fakes.cafe_tree(tmp_path, n_children=3)
    m = load("cafe", tmp_path)
    table1 = paper.table_from_paper("noh2023.table1_cafe_counts").loc["total"]
    t = cafe.variant_counts(m, paper_total=table1)
    assert list(t.index) == ["paper", "closed", "open", "tongue", "all variants"]
    assert list(t.columns) == [*m.classes, "total"]
    # 3 children x one photo per emotion and pose; child 2 has a second angryopen, child 3 a
    # second neutral (closed); only disgust has the tongue pose
    assert t.loc["closed"].tolist() == [3, 3, 3, 3, 4, 3, 3, 22]
    assert t.loc["open"].tolist() == [4, 3, 3, 3, 3, 3, 3, 22]
    assert t.loc["tongue"].tolist() == [0, 3, 0, 0, 0, 0, 0, 3]
    assert t.loc["all variants", "total"] == len(m) == 47
    assert t.loc["paper"].tolist() == [112, 109, 84, 123, 126, 57, 57, 668]
    assert cafe.variant_source(m.frame) == "variant"
    # a set that records only the mouth (the synthetic preset; tongue counts as open), and one
    # with neither
    frame = m.frame.drop(columns=["variant"])
    only_mouth = make_manifest(frame, name="x", classes=m.classes)
    assert cafe.variant_source(only_mouth.frame) == "mouth"
    assert cafe.variant_counts(only_mouth).loc["open"].tolist() == [4, 6, 3, 3, 3, 3, 3, 25]
    bare = make_manifest(frame.drop(columns=["mouth"]), name="x", classes=m.classes)
    t = cafe.variant_counts(bare)
    assert list(t.index) == ["not recorded", "all variants"]
    assert t.loc["not recorded", "total"] == 47


def test_cafe_with_description_csv(tmp_path) -> None:
    fakes.cafe_tree(tmp_path, n_children=3, with_csv=True)
    m = load("cafe", tmp_path)
    assert m.classes == ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
    assert len(m) == 47 and m.exclusions.empty and m.n_found == n_images(tmp_path)
    f = by_name(m)
    row = f.loc["angryopen_M-EA-06.jpg"]
    assert (row.label, row.mouth, row.variant, row.gender, row.age_group) == \
        ("angry", "open", "open", "male", "child")
    assert (row.subject_id, row.ethnicity, row.age) == ("C002", "Other", "4")   # the CSV's
    # the CSV's plain token says nothing about the mouth: the release name does
    assert tuple(f.loc["fearful_F-AA-01.jpg", ["mouth", "variant"]]) == ("closed", "closed")
    assert f.loc["disgustwithtongue_F-LA-03.jpg", "variant"] == "tongue"
    assert f.loc["neutral_F-LA-03-2.jpg", "photo_suffix"] == "-2"
    assert m.counts("gender").loc["total", "total"] == 47
    assert m.meta["layout"] == "description csv"


def test_cafe_csv_without_child_ids_takes_them_from_release_names(tmp_path) -> None:
    paths = fakes.cafe_tree(tmp_path, n_children=8)
    paths += fakes.write_images(tmp_path / "Extra", EXTRA_RELEASE_NAMES)
    fakes.write_csv(tmp_path / "list.csv", ["file_name", "emotion"],
                    [[p.name, p.name.split("_")[0]] for p in paths])
    m = load("cafe", tmp_path)
    assert m.meta["layout"] == "description csv" and len(m) == len(paths)
    f = by_name(m)
    assert (f["subject_id"] == f.index.map(child_of)).all()
    for name, expected in RELEASE_EXAMPLES.items():
        assert tuple(f.loc[name, RELEASE_COLUMNS]) == expected, name


def test_cafe_csv_problems_are_exclusions(tmp_path) -> None:
    fakes.cafe_tree(tmp_path, n_children=2)
    fakes.write_image(tmp_path / "Extra" / "unlisted.jpg")
    rows = [[p.name, p.name.split("_")[0], p.parent.name, "F"]
            for p in sorted(tmp_path.rglob("*.jpg")) if p.name != "unlisted.jpg"]
    rows[0][1] = "grumpy"                                   # unknown emotion token
    rows.append(["sad_F-AA-09.jpg", "sad", "Sad", "F"])     # listed, not on disk
    fakes.write_csv(tmp_path / "meta.csv", ["File_Name", "Emotion", "SubFolder", "Sex"], rows)
    m = load("cafe", tmp_path)
    r = reasons(m)
    assert "unknown emotion 'grumpy'" in r[rows[0][0]]
    assert r["unlisted.jpg"] == "not listed in meta.csv"
    assert "no such file" in r["sad_F-AA-09.jpg"]
    assert len(m) == 30 and m.n_found == n_images(tmp_path) + 1   # + the missing listed row
    assert set(m.frame["gender"]) == {"female"}                    # the CSV's, not the names'


#: The older token naming (no child code), still read when no file is named like the release.
LEGACY_TOKENS = ("angryopen", "angryclosed", "disgust", "fearful", "happyopen", "happyclosed",
                 "neutralopen", "neutralclosed", "sad", "surprise")


def legacy_tree(root: Path, n_children: int) -> list[Path]:
    return [fakes.write_image(root / f"{child:03d}_{token}_{'F' if child % 2 else 'M'}.jpg")
            for child in range(1, n_children + 1) for token in LEGACY_TOKENS]


def test_cafe_from_token_names_and_undeterminable_labels(tmp_path) -> None:
    legacy_tree(tmp_path, n_children=2)
    fakes.write_images(tmp_path / "misc", ["003_F.jpg", "004_happy_sad_M.jpg",
                                           "005_angry_open_F.jpg"])
    m = load("cafe", tmp_path)
    r = reasons(m)
    assert r["003_F.jpg"].startswith("label not determined: no emotion token")
    assert "conflicting" in r["004_happy_sad_M.jpg"]
    row = m.frame[m.frame["path"].str.endswith("005_angry_open_F.jpg")].iloc[0]
    assert (row.label, row.mouth, row.variant, row.gender, row.subject_id) == \
        ("angry", "open", "open", "female", "005")
    assert by_name(m).loc["001_fearful_F.jpg", "variant"] == "unknown"
    assert len(m) == 21 and m.n_found == n_images(tmp_path)
    assert m.meta["layout"] == "file names"


def test_cafe_label_from_folder_when_name_has_none(tmp_path) -> None:
    fakes.write_images(tmp_path / "Disgust", ["a1.jpg"])
    legacy_tree(tmp_path / "rest", n_children=1)
    m = load("cafe", tmp_path)
    assert (m.frame["label"] == "disgust").sum() == 2


def test_cafe_manifest_override(tmp_path) -> None:
    fakes.cafe_tree(tmp_path / "data", n_children=2)
    chosen = sorted((tmp_path / "data").rglob("*.jpg"))[:4]
    rows = [[p.relative_to(tmp_path / "data").as_posix(), fakes.cafe_label(p), "girl"]
            for p in chosen]
    csv = fakes.write_csv(tmp_path / "paper_subset.csv", ["path", "label", "gender"], rows)
    m = load("cafe", tmp_path / "data", manifest=csv)
    assert len(m) == 4 and m.exclusions.empty
    assert set(m.frame["gender"]) == {"female"} and set(m.frame["age_group"]) == {"child"}
    assert m.meta["missing_classes"] == ["disgust", "fear", "happy", "neutral", "sad",
                                         "surprise"]                # the 4 chosen are angry
    f = by_name(m)
    # child ids and poses the CSV did not give come from the release names
    assert (f["subject_id"] == f.index.map(child_of)).all()
    assert f.loc["angryopen_M-EA-06.jpg", "variant"] == "open"
    assert f.loc["angry_F-AA-01.jpg", "mouth"] == "closed"
    only_open = load("cafe", tmp_path / "data", manifest=csv, variant="open")
    assert set(only_open.frame["variant"]) == {"open"} and only_open.n_found == 4


def test_cafe_missing_class_is_an_error_unless_allowed(tmp_path) -> None:
    fakes.cafe_tree(tmp_path, n_children=1)
    for p in tmp_path.rglob("surprise*"):
        p.unlink()
    with pytest.raises(ManifestError, match=f"{tmp_path}.*'surprise'.*allow_missing_classes"):
        load("cafe", tmp_path)
    m = load("cafe", tmp_path, allow_missing_classes=True)
    assert m.meta["missing_classes"] == ["surprise"] and len(m.classes) == 7
    assert "surprise" not in set(m.frame["label"]) and len(m) == 13


def test_cafe_token_parser() -> None:
    assert cafe.parse_token("AngryOpen") == ("angry", {"mouth": "open", "variant": "open"})
    assert cafe.parse_token("neutral_closed") == ("neutral", {"mouth": "closed",
                                                              "variant": "closed"})
    assert cafe.parse_token("fearful") == ("fear", {"mouth": "unknown", "variant": "unknown"})
    assert cafe.parse_token("Happy (open mouth)") == ("happy", {"mouth": "open",
                                                                "variant": "open"})
    assert cafe.parse_token("disgustwithtongue") == ("disgust", {"mouth": "open",
                                                                 "variant": "tongue"})
    assert cafe.parse_token("opendoor") is None and cafe.parse_token("") is None


def test_cafe_release_name_parser() -> None:
    values, reason = cafe.parse_release_name("happyopen_F-as-4.JPG")
    assert reason is None
    assert (values["subject_id"], values["ethnicity"], values["variant"]) == ("F-AS-04", "AS",
                                                                              "open")
    values, reason = cafe.parse_release_name("angry_F-AA-19b.jpg")
    assert (values["subject_id"], values["photo_suffix"]) == ("F-AA-19", "b")
    values, reason = cafe.parse_release_name("happy_M-EA-06b-2.jpg")   # set b, second photo
    assert reason is None
    assert (values["label"], values["subject_id"], values["photo_suffix"]) == \
        ("happy", "M-EA-06", "b-2")
    values, reason = cafe.parse_release_name("happy_M-EA-06-2b.jpg")
    assert values is None and "'-2b'" in reason
    assert cafe.parse_release_name("001_angryopen_F.jpg")[0] is None
    assert cafe.is_release_named("x/angry_M-EA-06.jpg") and not cafe.is_release_named("001_F.jpg")


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
    with pytest.raises(ValueError, match="gaze .*: sideways is not one of the choices direct, "
                                         "averted, null"):
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


def test_nimh_partial_set_needs_the_option_and_names_missing_classes(tmp_path) -> None:
    fakes.nimh_tree(tmp_path)
    for p in list(tmp_path.glob("*.jpg")):
        if p.stem[3] in "FS":                     # M10FS_..., F12SA_...: fear and sad gone
            p.unlink()
    with pytest.raises(ManifestError, match=r"class\(es\) \['fear', 'sad'\].*"
                                            r"allow_missing_classes=True"):
        load("nimh_chefs", tmp_path)
    m = load("nimh_chefs", tmp_path, allow_missing_classes=True)
    assert m.classes == nimh_chefs.CLASSES                        # still the paper's five
    assert m.meta["missing_classes"] == ["fear", "sad"]
    assert len(m) == 18 and m.exclusions.empty                   # 3 subjects x 3 x 2 gazes
    assert m.counts("gender").loc["total"].to_dict() == {"angry": 6, "happy": 6, "neutral": 6,
                                                          "total": 18}
    full = tmp_path / "full"
    fakes.nimh_tree(full)
    assert load("nimh_chefs", full, allow_missing_classes=True).meta["missing_classes"] == []
    with pytest.raises(ValueError, match="allow_missing_classes='yes'"):
        load("nimh_chefs", full, allow_missing_classes="yes")


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
    fakes.cafe_tree(tmp_path, n_children=8, with_csv=True)
    csv = tmp_path / "CAFE_description.csv"
    text = csv.read_text().replace("Other", "Latiné")
    csv.write_bytes(text.encode("cp1252"))          # a spreadsheet export, not UTF-8
    m = load("cafe", tmp_path)
    assert len(m) == 124 and set(m.frame["ethnicity"]) == {"Asian", "Latiné"}
