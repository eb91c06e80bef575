"""The Runs page's tables: a reader's re-executions set beside the book's run and the paper."""
import json

import pandas as pd

from emo_lib.book import runs
from emo_lib.verdicts import INCONCLUSIVE, SUPPORTED, claims_table, with_paper_verdicts


def _write(folder, params, values, verdict):
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps({"params": params, "values": values}))
    mine = claims_table([{"claim": "c", "verdict": verdict, "evidence": "e"}], ["gap"])
    own = claims_table([{"claim": "c", "verdict": SUPPORTED, "evidence": "p"}], ["gap"])
    with_paper_verdicts(mine, own).to_csv(folder / "claims.csv")


def test_runs_beside_the_book(tmp_path):
    _write(tmp_path / "results" / "noh2023_age_accuracy", {"seed": 0, "model": "standin"},
           {"cafe_overall": 0.25, "model_classes": "a, b"}, SUPPORTED)
    run_dir = tmp_path / "runs" / "noh2023_age_accuracy-20261130-101010"
    _write(run_dir / "results" / "noh2023_age_accuracy", {"seed": 3, "model": "standin"},
           {"cafe_overall": 0.5, "model_classes": "a, b"}, INCONCLUSIVE)
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
