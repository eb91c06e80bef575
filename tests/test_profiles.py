"""The book's profiles fit the book; smoke and tiny hold only what differs from the notebooks'
defaults. The paper profile is exempt on purpose: it states the papers' settings in full, so a
default lowered for a faster smoke build can never change a paper build silently."""
from pathlib import Path

import pytest

from emo_lib import runner
from tinybook import make_book

ROOT = Path(__file__).resolve().parent.parent
PROFILES = [ROOT / "profiles" / "smoke.yml", ROOT / "profiles" / "paper.yml",
            ROOT / "tests" / "profiles" / "tiny.yml"]


@pytest.fixture
def repo_book(monkeypatch):
    monkeypatch.setenv("EMO_BOOK_ROOT", str(ROOT))
    return runner.book_notebooks()


@pytest.mark.parametrize("path", [p for p in PROFILES if p.stem != "paper"], ids=lambda p: p.stem)
def test_profile_repeats_no_default(path, repo_book):
    found = runner.redundant_entries(runner.load_profile(path), repo_book)
    assert not found, "remove these entries (they equal what the notebook gets anyway):\n" + \
        "\n".join(found)


@pytest.mark.parametrize("path", PROFILES, ids=lambda p: p.stem)
def test_profile_fits_the_book(path, repo_book):
    """Every entry names a page of the book and a parameter it declares, with a value of its
    type, and reaches that page as written (data sets are the build's business: paper needs
    real data)."""
    profile = runner.load_profile(path)
    params = runner.resolve_parameters(profile, repo_book, check_data=[])
    assert list(params) == repo_book
    declared = {nb: runner.declared_parameters(nb) for nb in repo_book}
    for key, value in profile.defaults.items():
        reached = [nb for nb in repo_book if key in declared[nb]]
        assert reached, f"defaults: {key} is declared by no page"
        for nb in reached:   # a page's own entry wins over defaults
            assert params[nb][key] == profile.notebooks.get(nb, {}).get(key, value), (nb, key)
    for nb, entries in profile.notebooks.items():
        assert nb in repo_book, f"{nb} is not a page of the book"
        for key, value in entries.items():
            assert key in declared[nb], f"{nb} declares no {key}"
            assert runner.type_mismatch(value, declared[nb][key]["type"]) is None, (nb, key)
            assert params[nb][key] == value, (nb, key)


def test_redundant_entries_rule(tmp_path, monkeypatch):
    """alpha: x=1, rate=0.5, tag=None; beta: y=2, x=0."""
    book = make_book(tmp_path / "book", monkeypatch)
    (book / "profiles" / "r.yml").write_text(
        "name: r\n"
        "defaults: {x: 1, rate: 0.50, y: 3, cafe_root: '${HOME}'}\n"
        "notebooks:\n"
        "  alpha: {x: 1, tag: null, rate: 0.7}\n"
        "  beta: {x: 0, y: 3}\n")
    found = runner.redundant_entries(runner.load_profile("r"), ["alpha", "beta"])
    assert [f.split("r.yml: ", 1)[1] for f in found] == [
        "defaults: x = 1 is the default of alpha",   # beta sets its own x
        "defaults: rate = 0.5 is overridden by every notebook that declares it",
        "notebooks: alpha: x = 1 is the profile's defaults",
        "notebooks: alpha: tag = null is its default",
        "notebooks: beta: y = 3 is the profile's defaults",
    ]   # cafe_root reads ${HOME}: never counted; beta.x=0 differs from defaults' x=1
    # removing every entry found together changes no notebook's parameters
    profile = runner.load_profile("r")
    before = {nb: runner.merged_parameters(nb, p) for nb, p in runner.resolve_parameters(
        profile, ["alpha", "beta"], check_data=[]).items()}
    for f in found:
        where, key = f.split("r.yml: ", 1)[1].split(" = ")[0].rsplit(": ", 1)
        section = profile.defaults if where == "defaults" else \
            profile.notebooks[where.split(": ")[1]]
        del section[key]
    after = {nb: runner.merged_parameters(nb, p) for nb, p in runner.resolve_parameters(
        profile, ["alpha", "beta"], check_data=[]).items()}
    assert after == before
