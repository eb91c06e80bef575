"""The Runs page's tables: a reader's re-executions set beside the book's run and the paper."""
import json


from emo_lib.book import runs
from emo_lib.verdicts import INCONCLUSIVE, SUPPORTED, claims_table, with_paper_verdicts


def _copy(path, key):
    """An executed copy recording the key of its execution (as the runner writes it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cells": [], "metadata": {"emo_book": {"key": key}}}))


def _write(folder, params, values, verdict, key="k", machine=None):
    folder.mkdir(parents=True)
    record = {"params": params, "values": values, "page_key": key}
    if machine is not None:
        record["provenance"] = {"machine": machine}
    (folder / "results.json").write_text(json.dumps(record))
    mine = claims_table([{"claim": "c", "verdict": verdict, "evidence": "e"}], ["gap"])
    own = claims_table([{"claim": "c", "verdict": SUPPORTED, "evidence": "p"}], ["gap"])
    with_paper_verdicts(mine, own).to_csv(folder / "claims.csv")


def test_runs_beside_the_book(tmp_path, monkeypatch):
    monkeypatch.setenv("EMO_BOOK_ROOT", str(tmp_path))
    _write(tmp_path / "results" / "noh2023_age_accuracy", {"seed": 0, "model": "standin"},
           {"cafe_overall": 0.25, "model_classes": "a, b"}, SUPPORTED, key="book")
    _copy(tmp_path / "executed" / "noh2023_age_accuracy.ipynb", "book")
    run_dir = tmp_path / "runs" / "noh2023_age_accuracy-20261130-101010"
    _write(run_dir / "results" / "noh2023_age_accuracy", {"seed": 3, "model": "standin"},
           {"cafe_overall": 0.5, "model_classes": "a, b"}, INCONCLUSIVE, key="run")
    _copy(run_dir / "noh2023_age_accuracy.ipynb", "run")
    (run_dir / "noh2023_age_accuracy.html").write_text("<html></html>")
    (tmp_path / "runs" / "broken-20261130").mkdir()   # a run that wrote nothing: skipped
    found = runs.find_runs(tmp_path / "runs")
    assert [r.label for r in found] == ["noh2023_age_accuracy-20261130-101010"]
    assert found[0].html is not None
    book = runs.book_run("noh2023_age_accuracy", tmp_path / "results")
    params = runs.parameter_table(book, found)
    assert params.index.tolist() == ["seed"] and params.loc["seed"].tolist() == [0, 3]
    values = runs.value_table(book, found)
    label = found[0].label
    assert values.loc["verdict: gap", "paper"] == SUPPORTED
    assert values.loc["verdict: gap", label] == INCONCLUSIVE
    assert values.loc["cafe_overall", f"{label} - book"] == 0.25
    assert values.loc["model_classes", f"{label} - book"] == ""
    assert runs.book_run("missing", tmp_path / "results") is None
    assert runs.parameter_table(None, []).empty
    assert runs.refused_note(book, found) == ""


def test_results_another_execution_wrote_are_refused_and_named(tmp_path, monkeypatch):
    """The book's results written by another build, and a run folder whose results are not its
    notebook's, never enter the tables; the page names them and says why."""
    monkeypatch.setenv("EMO_BOOK_ROOT", str(tmp_path))
    page = "noh2023_age_accuracy"
    _write(tmp_path / "results" / page, {"seed": 0}, {"cafe_overall": 0.25}, SUPPORTED,
           key="other book")
    _copy(tmp_path / "executed" / f"{page}.ipynb", "this book")
    good, bad = (tmp_path / "runs" / f"{page}-{t}" for t in ("1", "2"))
    _write(good / "results" / page, {"seed": 1}, {"cafe_overall": 0.5}, SUPPORTED, key="g")
    _copy(good / f"{page}.ipynb", "g")
    _write(bad / "results" / page, {"seed": 2}, {"cafe_overall": 0.9}, SUPPORTED, key=None)
    _copy(bad / f"{page}.ipynb", "b")
    book, found = runs.book_run(page, tmp_path / "results"), runs.find_runs(tmp_path / "runs")
    assert book.foreign.startswith("results from another build")
    assert [r.foreign is None for r in found] == [True, False] and found[1].claims is None
    values = runs.value_table(book, found)
    assert list(values.columns) == ["paper", f"{page}-1"]          # neither the book nor bad
    assert values.loc["cafe_overall", f"{page}-1"] == 0.5
    assert list(runs.parameter_table(book, found).columns) == [f"{page}-1"]
    note = runs.refused_note(book, found)
    assert "- the book: results from another build" in note
    assert f"- `{page}-2`: results from another build: they carry no build key" in note


def test_runs_on_another_machine_are_flagged(tmp_path, monkeypatch):
    monkeypatch.setenv("EMO_BOOK_ROOT", str(tmp_path))
    _copy(tmp_path / "executed" / "p.ipynb", "k")
    for n in (1, 2, 3):
        _copy(tmp_path / "runs" / f"p-{n}" / "p.ipynb", "k")
    avx512 = {"cpu_capability": "AVX512", "pin_cpu": None, "threads": 1, "blas": "MKL 2024.2",
              "gpu": None, "deterministic": None}
    _write(tmp_path / "results" / "p", {"seed": 0}, {"x": 1.0}, SUPPORTED, machine=avx512)
    same = tmp_path / "runs" / "p-1" / "results" / "p"
    _write(same, {"seed": 1}, {"x": 1.0}, SUPPORTED, machine=avx512)
    laptop = tmp_path / "runs" / "p-2" / "results" / "p"
    _write(laptop, {"seed": 0}, {"x": 0.9}, INCONCLUSIVE,
           machine=avx512 | {"cpu_capability": "AVX2"})
    old = tmp_path / "runs" / "p-3" / "results" / "p"
    _write(old, {"seed": 0}, {"x": 1.0}, SUPPORTED)          # recorded no machine
    found = runs.find_runs(tmp_path / "runs")
    book = runs.book_run("p", tmp_path / "results")
    flags = runs.machine_flags(book, found)
    assert len(flags) == 1 and flags[0].startswith("Run p-2 was computed with other arithmetic")
    assert "CPU capability AVX2 (the book: AVX512)" in flags[0] and "--pin-cpu avx2" in flags[0]
    table = runs.parameter_table(book, found)
    assert table.loc["machine: CPU capability"].tolist() == ["AVX512", "AVX512", "AVX2", ""]
    assert "machine: BLAS" not in table.index                 # the same everywhere
    assert runs.machine_flags(None, found) == []
    pinned = {**avx512, "cpu_capability": "AVX2", "pin_cpu": "avx2"}
    assert runs.machine_flags(runs.RunRecord("book", "p", tmp_path, {"provenance": {
        "machine": pinned}}, None, None), [runs.RunRecord("r", "p", tmp_path, {"provenance": {
            "machine": pinned}}, None, None)]) == []            # both pinned: comparable
