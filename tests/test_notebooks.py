"""Notebook hygiene: sources carry no outputs, one `parameters` cell, in step with notebooks/src,
and the book's table of contents and notebooks/ agree."""
import sys
from pathlib import Path

import nbformat
import pytest

from emo_lib import runner

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import py2nb  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_toc_and_notebooks_agree():
    in_toc = set(runner.book_notebooks(ROOT / "_toc.yml"))
    on_disk = {p.stem for p in NOTEBOOKS}
    assert in_toc == on_disk, f"only in _toc.yml: {in_toc - on_disk}; only in notebooks/: {on_disk - in_toc}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_clean_and_parameterized(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not any(c.outputs or c.execution_count for c in code), f"{path.name} carries outputs"
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged 'parameters'"
    assert "seed" in tagged[0].source, f"{path.name}: no seed parameter"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_matches_its_source(path):
    src = ROOT / "notebooks" / "src" / f"{path.stem}.py"
    assert src.exists(), f"{src} is missing"
    expected = py2nb.convert(src.read_text())
    actual = nbformat.read(path, as_version=4)
    pairs = list(zip(expected.cells, actual.cells))
    assert len(expected.cells) == len(actual.cells), f"{path.name}: regenerate with tools/py2nb.py"
    for e, a in pairs:
        assert (e.cell_type, e.source, e.metadata.get("tags", [])) == \
            (a.cell_type, a.source, a.metadata.get("tags", [])), \
            f"{path.name} differs from {src.name}: regenerate with tools/py2nb.py"
