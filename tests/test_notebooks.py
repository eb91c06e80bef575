"""Notebook hygiene: sources carry no outputs, one `parameters` cell, in step with notebooks/src,
and the book's table of contents and notebooks/ agree."""
from pathlib import Path

import jupytext
import nbformat
import pytest

from emo_lib import runner

ROOT = Path(__file__).resolve().parent.parent

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_toc_and_notebooks_agree():
    in_toc = set(runner.book_notebooks(ROOT / "_toc.yml"))
    on_disk = {p.stem for p in NOTEBOOKS}
    assert in_toc == on_disk, (f"only in _toc.yml: {in_toc - on_disk}; "
                               f"only in notebooks/: {on_disk - in_toc}")


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
    expected = jupytext.read(src)
    actual = nbformat.read(path, as_version=4)
    fix = f"regenerate it with `make notebooks` (jupytext --sync {src.relative_to(ROOT)})"
    assert len(expected.cells) == len(actual.cells), f"{path.name}: {fix}"
    for e, a in zip(expected.cells, actual.cells):
        assert (e.cell_type, e.source, e.metadata.get("tags", [])) == \
            (a.cell_type, a.source, a.metadata.get("tags", [])), \
            f"{path.name} differs from {src.name}: {fix}"
    assert actual.metadata.get("kernelspec", {}).get("name") == runner.KERNEL_NAME, \
        f"{path.name}: kernelspec is not {runner.KERNEL_NAME!r} (see the header of {src.name})"


def test_titled_cells_stay_separate(tmp_path):
    """jupytext reads a titled marker (`# %% Title`) as a new cell, where the old converter
    merged it into the cell before."""
    src = tmp_path / "t.py"
    src.write_text("# %%\nx = 1\n\n# %% Second cell\ny = 2\n")
    nb = jupytext.read(src)
    assert [c.source for c in nb.cells] == ["x = 1", "y = 2"]
