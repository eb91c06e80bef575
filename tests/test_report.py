"""The provenance banner and the results record."""
import json

import pandas as pd

from emo_lib.data import make_manifest
from emo_lib.report import Run, provenance_text


def _manifest(synthetic: bool):
    frame = pd.DataFrame({"path": ["a.png"], "label": ["happy"], "gender": ["male"],
                          "age_group": ["child"], "subject_id": ["1"], "dataset": ["x"]})
    return make_manifest(frame, name="synthetic:cafe_like" if synthetic else "cafe",
                         synthetic=synthetic, root="/data/cafe")


def test_synthetic_banner_says_so_and_never_claims_the_paper():
    text = provenance_text([_manifest(True)], "cpu")
    assert "synthetic data, not the papers' data" in text and ":class: warning" in text
    assert "never as a reproduction" in text


def test_real_banner_names_the_root():
    text = provenance_text([_manifest(False)], "cuda")
    assert "Built from the real data" in text and "/data/cafe" in text and "cuda" in text


def test_run_records_results(tmp_path, monkeypatch):
    monkeypatch.setenv("EMO_RESULTS", str(tmp_path))
    run = Run("nb", params={"seed": 1, "device": "cpu"})
    run.banner(_manifest(True))
    run.glue("answer", 42)
    run.table(pd.DataFrame({"a": [1.23456]}), "t", display=False)
    record = json.loads(run.finish().read_text())
    assert record["synthetic"] and record["values"] == {"answer": 42}
    assert record["params"]["seed"] == 1 and record["device"].startswith("cpu")
    assert (tmp_path / "nb" / "t.csv").exists()


def test_run_records_every_declared_parameter(tmp_path, monkeypatch):
    import nbformat
    (tmp_path / "notebooks").mkdir()
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("seed = 3\nsize = 32  # pixels")
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {"name": "emo-lib", "display_name": "emo-lib", "language": "python"}
    nbformat.write(nb, tmp_path / "notebooks" / "nb.ipynb")
    monkeypatch.setenv("EMO_BOOK_ROOT", str(tmp_path))
    monkeypatch.setenv("EMO_RESULTS", str(tmp_path / "results"))
    run = Run.from_parameters("nb", {"seed": 7, "size": 32, "other": 1})
    assert run.params == {"seed": 7, "size": 32}
