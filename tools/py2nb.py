"""Write a notebook from a percent-format script (``# %%`` cells), outputs empty.

    python tools/py2nb.py notebooks/src/name.py notebooks/name.ipynb

Cell markers: ``# %%`` (code), ``# %% [markdown]`` (markdown; each line starts with ``# ``),
``# %% tags=["parameters"]`` (the papermill parameters cell). Used to author the notebooks as
plain text; the .ipynb in notebooks/ is the source of truth the book runs.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import nbformat

MARK = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")


def convert(text: str) -> nbformat.NotebookNode:
    cells, kind, tags, lines = [], None, [], []

    def flush() -> None:
        if kind is None:
            return
        body = "\n".join(lines).strip("\n")
        if kind == "markdown":
            body = "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in body.split("\n"))
            cell = nbformat.v4.new_markdown_cell(body)
        else:
            cell = nbformat.v4.new_code_cell(body)
        if tags:
            cell.metadata["tags"] = tags
        cells.append(cell)

    for line in text.split("\n"):
        m = MARK.match(line)
        if m:
            flush()
            kind = "markdown" if m.group("md") else "code"
            tags = json.loads(m.group("tags")) if m.group("tags") else []
            lines = []
        elif kind is not None:
            lines.append(line)
    flush()
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "emo-lib", "display_name": "Python (emo-lib)",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


if __name__ == "__main__":
    src, dst = map(Path, sys.argv[1:3])
    nb = convert(src.read_text())
    nbformat.validate(nb)
    nbformat.write(nb, dst)
    print(f"wrote {dst} ({len(nb.cells)} cells)")
