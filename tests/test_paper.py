"""The paper-values loader and the paper / this run / difference tables."""
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from emo_lib import paper

ROOT = Path(__file__).resolve().parent.parent


def _kept(source: object, book: object, path: str) -> list[str]:
    """Where ``book`` drops or changes a value of ``source`` (lists of notes and claims may grow
    at their end; dicts may gain keys)."""
    if isinstance(source, dict):
        if not isinstance(book, dict):
            return [f"{path}: no longer a mapping"]
        return [f for k, v in source.items()
                for f in (_kept(v, book[k], f"{path}.{k}") if k in book
                          else [f"{path}.{k}: dropped"])]
    if isinstance(source, list) and path.rsplit(".", 1)[-1] in ("notes", "claims"):
        return [] if isinstance(book, list) and book[:len(source)] == source \
            else [f"{path}: the shared items must come first, unchanged"]
    return [] if source == book else [f"{path}: {source!r} changed to {book!r}"]


def test_book_copy_matches_shared_file():
    """The book's copy holds the shared file's values unchanged; it may add (the book's own
    notes and claims at the end of their lists, new keys such as the papers' words for a
    headline), never drop or change one."""
    shared = ROOT.parent / "shared" / "papers" / "paper_values.yaml"
    if not shared.exists():
        pytest.skip("shared/ not beside the checkout")
    source, book = yaml.safe_load(shared.read_text()), yaml.safe_load(
        paper.PAPER_VALUES.read_text())
    assert _kept(source, book, "paper_values") == []


def test_the_shared_file_check_sees_a_changed_or_dropped_value():
    source = {"a": {"x": 1, "notes": ["n"], "table": [1, 2]}}
    assert _kept(source, {"a": {"x": 1, "notes": ["n", "mine"], "table": [1, 2], "y": 3}},
                 "p") == []
    assert _kept(source, {"a": {"x": 2, "notes": ["n"], "table": [1, 2]}}, "p") == [
        "p.a.x: 1 changed to 2"]
    assert _kept(source, {"a": {"notes": ["mine", "n"], "table": [1, 2, 3]}}, "p") == [
        "p.a.x: dropped", "p.a.notes: the shared items must come first, unchanged",
        "p.a.table: [1, 2] changed to [1, 2, 3]"]


def test_dotted_lookup_and_error():
    assert paper.paper_value("jeong2021.focal_loss.gamma") == 2.0
    assert paper.paper_value("noh2023.table1_cafe_counts.total.total") == 668
    with pytest.raises(ValueError, match="no .nope. under noh2023.table1_cafe_counts"):
        paper.paper_value("noh2023.table1_cafe_counts.nope")


def test_table_counts_are_consistent():
    # Table 1's totals row is the sum of the male and female rows, in every class.
    t = paper.table_from_paper("noh2023.table1_cafe_counts")
    assert (t.loc["male"] + t.loc["female"] == t.loc["total"]).all()


def test_compare_difference_and_nulls():
    table = paper.compare({"a": 0.5, "b": None}, {"a": 0.6, "c": 1.0}, relative=True)
    assert list(table.index) == ["a", "b", "c"]
    assert table.loc["a", "difference"] == pytest.approx(0.1)
    assert table.loc["a", "relative difference"] == pytest.approx(0.2)
    assert math.isnan(table.loc["b", "paper"]) and math.isnan(table.loc["c", "paper"])


def test_compare_counts_blocks():
    p = pd.DataFrame({"x": [1, 2]}, index=["male", "female"])
    r = pd.DataFrame({"x": [1, 3]}, index=["male", "female"])
    t = paper.compare_counts(p, r)
    assert t.loc[("female", "difference"), "x"] == 1
    assert t.loc[("male", "this run"), "x"] == 1


def test_notes_are_available():
    assert any("0.826" in n for n in paper.paper_notes("noh2023", "disgust"))


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="paper values file"):
        paper.load_paper_values(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("noh2023: {}\n")
    with pytest.raises(ValueError, match="jeong2021"):
        paper.load_paper_values(bad)


def test_headlines_come_from_paper_values():
    h = paper.headlines()
    assert h["noh_cafe_overall"] == paper.paper_value(
        "noh2023.fig3_accuracy_pretrained.cafe.overall")
    t4 = paper.paper_value("jeong2021.table4_efficientnet_b0_focal")
    assert h["jeong_proposed_gain"] == pytest.approx((t4["proposed"][1] - t4["baseline"][1])
                                                     / t4["baseline"][1])
    assert h["jeong_accuracy_change"] == pytest.approx(-0.005)   # not "unchanged accuracy"
    # the paper's rounded words stay beside the exact ratio, never replaced by it
    assert h["jeong_proposed_gain_printed"] == "+30 %"
    assert f"{h['jeong_proposed_gain']:.3f}" == "0.305"
