"""A throwaway book of two small paper pages that use the real ``Run`` (results.json, claims,
the page key), and an in-process stand-in for papermill, for the tests of builds in two roots.

``noh2023_a`` (part "Paper 1") and ``jeong2021_b`` (part "Paper 2") each declare ``x`` and
write one claim whose evidence is ``value <x>``; the profile ``p`` sets ``x`` (each book its
own), so the claims ledger shows which build a page's numbers come from.

:func:`execute_in_process` runs a notebook's code cells in this process, with the environment
the runner gives the kernel (``kernel_env``, the page key included) and the parameters injected
after the ``parameters`` cell, as papermill does; it is fast and exercises everything but the
kernel. Run as a script (``python paperbook.py``) it builds the book at ``$EMO_BOOK_ROOT`` that
way: a second process, for builds at once.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any, Mapping

import nbformat

PAGES = ("noh2023_a", "jeong2021_b")
BODY = """from emo_lib.book.report import Run
from emo_lib.verdicts import claims_table

run = Run.from_parameters({name!r}, globals(), display=False)
run.glue("x", x)
run.table(claims_table([{{"claim": "claim of {name}", "verdict": "supported",
                         "evidence": f"value {{x}}"}}], ["{name}_c"]), "claims", display=False)
run.finish()"""


def make_paper_book(root: Path, x: int) -> Path:
    """The two pages in ``root``, a profile ``p`` setting ``x``; nothing else."""
    (root / "notebooks").mkdir(parents=True)
    (root / "profiles").mkdir()
    for name in PAGES:
        nb = nbformat.v4.new_notebook()
        params = nbformat.v4.new_code_cell("x = 1")
        params.metadata["tags"] = ["parameters"]
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), params,
                    nbformat.v4.new_code_cell(BODY.format(name=name))]
        nb.metadata["kernelspec"] = {"name": "emo-lib", "display_name": "emo-lib",
                                     "language": "python"}
        nbformat.write(nb, root / "notebooks" / f"{name}.ipynb")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n"
        "  - caption: Paper 1\n    chapters:\n      - file: executed/noh2023_a\n"
        "  - caption: Paper 2\n    chapters:\n      - file: executed/jeong2021_b\n")
    (root / "profiles" / "p.yml").write_text(f"name: p\ndefaults:\n  x: {x}\n")
    (root / "requirements-lock.txt").write_text("numpy==1\n")
    return root


def execute_in_process(input_path: str, output_path: str, parameters: Mapping[str, Any],
                       kernel_env: Mapping[str, str] | None = None, **_: Any) -> None:
    """papermill.execute_notebook, in this process (see the module docstring)."""
    nb = nbformat.read(input_path, as_version=4)
    before = dict(os.environ)
    os.environ.clear()
    os.environ.update(kernel_env if kernel_env is not None else before)
    try:
        namespace: dict[str, Any] = {}
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            exec(compile(cell.source, input_path, "exec"), namespace)
            if "parameters" in cell.metadata.get("tags", []):
                namespace.update(parameters)
        time.sleep(float(os.environ.get("PAPERBOOK_DELAY", "0")))  # overlap two builds
    finally:
        os.environ.clear()
        os.environ.update(before)
    nbformat.write(nb, output_path)


def patch(monkeypatch: Any) -> None:
    """Make the runner execute pages with :func:`execute_in_process` (no kernel)."""
    import papermill

    from emo_lib.runner import builder, cli

    monkeypatch.setattr(papermill, "execute_notebook", execute_in_process)
    monkeypatch.setattr(builder, "ensure_kernel", lambda name: name)
    monkeypatch.setattr(cli, "ensure_kernel", lambda name: name)


def main() -> int:
    """Build the book at ``$EMO_BOOK_ROOT`` with profile ``p``, pages executed in process."""
    import pytest

    from emo_lib import runner

    with pytest.MonkeyPatch.context() as mp:
        patch(mp)
        return runner.main(["build", "--profile", "p", "--no-book", "--quiet"])


if __name__ == "__main__":
    sys.exit(main())
