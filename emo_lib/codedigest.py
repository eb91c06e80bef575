"""The digest of the code behind a value: the one rule every cache key and page key follows.

A value (a trained unit, stand-in weights, a LIME map, a page's results) depends on the code
that computes it: the module that computes it and every ``emo_lib`` module it imports,
transitively. :func:`code_digest` hashes exactly that closure, each module normalised so that
comments, docstrings and layout do not count (``ast.dump`` of the module with its docstrings
removed): a docstring edit changes no key; an edit to ``train/fit.py`` changes the key of every
value whose code imports it, and of nothing else.

How the closure is found (a static scan: nothing is imported or executed):

* every ``import`` and ``from ... import`` anywhere in a module, inside functions too (lazy
  imports count), relative ones resolved against the module's package;
* ``from pkg import name`` where ``pkg`` is a package whose ``__init__`` only re-exports
  ``name`` from a submodule follows the re-export to that submodule, so importing one function
  from ``emo_lib.train`` does not pull in every module of the package; ``import pkg as p``
  followed by ``p.attr`` uses follows each ``attr`` the same way (a bare use of ``p``: the
  whole package);
* a string literal ``"emo_lib.x.y:function"`` (code imported by name at run time) counts as
  an import of ``emo_lib.x.y``;
* data files some modules read (:data:`DATA_FILES`) count as part of them.

What it does not do: know about code outside ``emo_lib`` (library versions belong in the keys
as versions, the environment's in the lock file), nor about the parent packages' ``__init__``
files Python runs before a submodule (they only re-export here).

Each file's scan is memoised by its modification time and size, in this process and in a small
JSON file under ``$EMO_CACHE/codedigest`` (keyed by this module's own source and the Python
version, whose ``ast`` output differs), so a warm ``emo-book build`` parses nothing; a digest
already computed in this process is reused while none of the files it read has changed. (An
edit that keeps both a file's size and its modification time, within one tick of the file
system's clock, would not be seen.)
"""
from __future__ import annotations

import ast
import hashlib
import json
import logging
import os
import re
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

log = logging.getLogger(__name__)

PACKAGE = "emo_lib"
#: ``"emo_lib.module:function"``: a string that names code to import at run time.
IMPORT_STRING = re.compile(rf"{PACKAGE}(\.\w+)+:\w+")
#: Files other than Python source that a module's results depend on, relative to the folder
#: that holds the package (the repository): they count as part of that module.
DATA_FILES: dict[str, tuple[str, ...]] = {
    "emo_lib.paper": ("book/paper_values.yaml",),
    "emo_lib.models.hsemotion": ("emo_lib/models/hsemotion_blobs.txt",),
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------ one file

@dataclass(frozen=True)
class Request:
    """One import a module makes: ``module`` (absolute), the ``name`` imported from it (None:
    the module itself), and the attributes read from what was bound (None: used otherwise)."""

    module: str
    name: str | None = None
    attrs: tuple[str, ...] | None = None


@dataclass
class Scan:
    """What one file says about its code: its normalised digest, the imports it makes and, for
    a package ``__init__``, the names it re-exports (name -> (module, name there))."""

    digest: str
    requests: list[Request] = field(default_factory=list)
    exports: dict[str, tuple[str, str]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"digest": self.digest,
                "requests": [[r.module, r.name, None if r.attrs is None else list(r.attrs)]
                             for r in self.requests],
                "exports": {k: list(v) for k, v in self.exports.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Scan":
        return cls(data["digest"],
                   [Request(m, n, None if a is None else tuple(a)) for m, n, a in data["requests"]],
                   {k: (v[0], v[1]) for k, v in data["exports"].items()})


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def normalised_digest(source: str) -> str:
    """SHA-256 of ``source``'s syntax tree without docstrings, comments, line numbers or
    layout (``ast.dump``): two sources that differ only there have the same digest."""
    return _sha(ast.dump(_strip_docstrings(ast.parse(source))).encode())


def _absolute(module: str | None, level: int, package: str) -> str:
    """The absolute name of ``from <.. * level><module> import``, seen from ``package``."""
    if level == 0:
        return module or ""
    parts = package.split(".")
    base = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join([*base, module] if module else base)


def scan_source(source: str, package: str, *, is_package: bool = False) -> Scan:
    """The :class:`Scan` of one module's ``source``; ``package``: the package relative imports
    start from (the module's own name for a package ``__init__``). One parse, one walk."""
    tree = ast.parse(source)
    # how each bound name is used: the attributes read from it, or None once used otherwise
    uses: dict[str, set[str] | None] = {}
    imports: list[ast.Import | ast.ImportFrom] = []
    requests: list[Request] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imports.append(node)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and IMPORT_STRING.fullmatch(node.value):
            requests.append(Request(node.value.split(":", 1)[0]))
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Name):
                if isinstance(node, ast.Attribute) and node.value is child:
                    if uses.get(child.id, set()) is not None:
                        uses.setdefault(child.id, set()).add(node.attr)
                else:
                    uses[child.id] = None

    def attrs_of(bound: str) -> tuple[str, ...] | None:
        used = uses.get(bound, set())
        return None if used is None else tuple(sorted(used))

    exports: dict[str, tuple[str, str]] = {}
    top_level = set(map(id, tree.body))
    for node in imports:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] != PACKAGE:
                    continue
                # `import a.b.c` binds `a`; `import a.b.c as x` binds x to a.b.c
                attrs = attrs_of(alias.asname) if alias.asname else None
                requests.append(Request(alias.name, None, attrs))
            continue
        module = _absolute(node.module, node.level, package)
        if module.split(".")[0] != PACKAGE:
            continue
        for alias in node.names:
            if alias.name == "*":
                requests.append(Request(module))
                continue
            bound = alias.asname or alias.name
            requests.append(Request(module, alias.name, attrs_of(bound)))
            if is_package and id(node) in top_level:
                exports[bound] = (module, alias.name)
    digest = _sha(ast.dump(_strip_docstrings(tree)).encode())
    return Scan(digest, requests, exports)


# ------------------------------------------------------------------------------ the package

class CodeIndex:
    """The modules of one copy of the package (``package_dir``: the ``emo_lib`` folder), their
    scans memoised by modification time and size, and the closures and digests built from them.
    ``memo``: a JSON file keeping the scans between processes (None: in memory only)."""

    def __init__(self, package_dir: str | Path, memo: str | Path | None = None) -> None:
        self.package_dir = Path(package_dir).resolve()
        self.memo_file = Path(memo) if memo is not None else None
        self._scans: dict[str, tuple[list[int], Scan]] = {}
        self._memo_loaded = self.memo_file is None
        self._memo_dirty = False
        self._lock = threading.RLock()
        self._paths: dict[str, Path | None] = {}
        # digests already computed: modules -> (stamps of every file read for it, digest)
        self._digests: dict[tuple[str, ...], tuple[dict[str, list[int] | None], str]] = {}
        self._read: dict[str, list[int] | None] | None = None   # files read by the digest

    # -- files and modules
    def path_of(self, module: str) -> Path | None:
        """The file of ``module`` (``a/b.py`` or ``a/b/__init__.py``), or None (not ours).
        Looked up once, until a digest finds a file it read changed (a new module is imported
        by an edited file)."""
        if module not in self._paths:
            self._paths[module] = self._find(module)
        return self._paths[module]

    def _find(self, module: str) -> Path | None:
        parts = module.split(".")
        if parts[0] != PACKAGE:
            return None
        base = self.package_dir.joinpath(*parts[1:])
        for candidate in (base.with_suffix(".py") if len(parts) > 1 else None,
                          base / "__init__.py"):
            if candidate is not None and candidate.is_file():
                return candidate
        return None

    @staticmethod
    def _stamp(path: Path) -> list[int] | None:
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        return [st.st_mtime_ns, st.st_size]

    def is_package(self, module: str) -> bool:
        path = self.path_of(module)
        return path is not None and path.name == "__init__.py"

    def _load_memo(self) -> None:
        if self._memo_loaded:
            return
        self._memo_loaded = True
        try:
            data = json.loads(self.memo_file.read_text())  # type: ignore[union-attr]
            for path, (stamp, scan) in data.items():
                self._scans.setdefault(path, (stamp, Scan.from_json(scan)))
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError) as err:
            log.warning("code digest memo %s unreadable (%s); scanning again", self.memo_file,
                        err)

    def save_memo(self) -> None:
        """Write the scans to the memo file (atomically) if any was added."""
        if self.memo_file is None or not self._memo_dirty:
            return
        from .storage import write_json

        with self._lock:
            data = {p: [stamp, scan.to_json()] for p, (stamp, scan) in self._scans.items()}
            self._memo_dirty = False
        try:
            write_json(self.memo_file, data)
        except OSError as err:  # a read-only cache slows the next build, nothing else
            log.warning("could not write the code digest memo %s (%s)", self.memo_file, err)

    def scan(self, module: str) -> Scan | None:
        """The module's :class:`Scan` (None: no such module in the package)."""
        path = self.path_of(module)
        if path is None:
            return None
        is_pkg = path.name == "__init__.py"
        return self._scan_file(path, lambda: scan_source(
            path.read_text(), module if is_pkg else module.rpartition(".")[0],
            is_package=is_pkg))

    def _scan_file(self, path: Path, compute: Any) -> Scan | None:
        """``compute()``'s Scan of ``path``, memoised by its modification time and size."""
        stamp = self._stamp(path)
        if stamp is None:
            return None
        if self._read is not None:
            self._read[str(path)] = stamp
        with self._lock:
            self._load_memo()
            known = self._scans.get(str(path))
            if known is not None and known[0] == stamp:
                return known[1]
        scan = compute()
        with self._lock:
            self._scans[str(path)] = (stamp, scan)
            self._memo_dirty = True
        return scan

    # -- closures
    def resolve(self, request: Request) -> set[str]:
        """The modules (each taken whole) whose code ``request`` brings in."""
        module, name, attrs = request.module, request.name, request.attrs
        if name is not None and self.path_of(f"{module}.{name}") is not None:
            module, name = f"{module}.{name}", None     # `from pkg import submodule`
        if self.path_of(module) is None:
            # `import emo_lib.a.b` of something that is not a module: its nearest module
            while "." in module and self.path_of(module) is None:
                module = module.rpartition(".")[0]
            return {module} if self.path_of(module) is not None else set()
        if name is None:
            if attrs is None or not self.is_package(module):
                return {module}
            out: set[str] = set()
            for attr in attrs:
                out |= self.resolve(Request(module, attr))
            return out
        return self._resolve_name(module, name, set())

    def _resolve_name(self, module: str, name: str, seen: set[tuple[str, str]]) -> set[str]:
        """The module defining ``module.name``, following package re-exports."""
        if (module, name) in seen or not self.is_package(module):
            return {module}
        seen.add((module, name))
        if self.path_of(f"{module}.{name}") is not None:
            return {f"{module}.{name}"}
        scan = self.scan(module)
        origin = scan.exports.get(name) if scan is not None else None
        if origin is None:
            return {module}                               # defined in the __init__ itself
        source, original = origin
        if self.path_of(source) is None and self.path_of(f"{source}.{original}") is None:
            return {module}
        if self.path_of(f"{source}.{original}") is not None:
            return {f"{source}.{original}"}
        return self._resolve_name(source, original, seen)

    def direct(self, module: str) -> set[str]:
        """The modules ``module``'s own imports bring in."""
        scan = self.scan(module)
        out: set[str] = set()
        for request in scan.requests if scan is not None else ():
            out |= self.resolve(request)
        out.discard(module)
        return out

    def closure(self, modules: Iterable[str]) -> list[str]:
        """``modules`` and every module they import, transitively, sorted."""
        todo = [m for m in modules if self.path_of(m) is not None]
        missing = [m for m in modules if self.path_of(m) is None]
        if missing:
            raise ValueError(f"no module {missing} in {self.package_dir}: a code digest names "
                             "modules of the package (e.g. 'emo_lib.train.fit')")
        seen: set[str] = set()
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo.extend(self.direct(m) - seen)
        return sorted(seen)

    def closure_of_requests(self, requests: Iterable[Request]) -> list[str]:
        modules: set[str] = set()
        for r in requests:
            modules |= self.resolve(r)
        return self.closure(modules)

    def _data_digest(self, module: str) -> list[list[str | None]]:
        out: list[list[str | None]] = []
        for rel in DATA_FILES.get(module, ()):
            path = self.package_dir.parent / rel
            if self._read is not None:
                self._read[str(path)] = self._stamp(path)
            out.append([rel, _sha(path.read_bytes()) if path.is_file() else None])
        return out

    def digest_of(self, modules: Sequence[str]) -> str:
        """SHA-256 of the normalised code (and data files) of exactly ``modules``."""
        h = hashlib.sha256()
        for m in sorted(modules):
            scan = self.scan(m)
            entry = [m, scan.digest if scan is not None else None, self._data_digest(m)]
            h.update(json.dumps(entry).encode() + b"\n")
        return h.hexdigest()

    def _memoised(self, token: tuple[str, ...], compute: Any) -> str:
        """``compute()``, reused while no file it read has changed (one stat per file)."""
        with self._lock:
            known = self._digests.get(token)
            if known is not None:
                if all(self._stamp(Path(p)) == s for p, s in known[0].items()):
                    return known[1]
                self._paths.clear()    # files changed: modules may have come or gone
            self._read = {}
            try:
                digest = compute()
                self._digests[token] = (self._read, digest)
            finally:
                self._read = None
        self.save_memo()
        return digest

    def code_digest(self, *modules: str) -> str:
        """The digest of ``modules`` and everything they import from the package."""
        return self._memoised(tuple(sorted(set(modules))),
                              lambda: self.digest_of(self.closure(modules)))

    def source_digest(self, source: str) -> str:
        """The digest of what a piece of top-level code imports from the package (not of the
        code itself)."""
        requests = scan_source(source, "").requests
        return self._memoised(("<source>", _sha(source.encode())),
                              lambda: self.digest_of(self.closure_of_requests(requests)))

    def notebook_digest(self, path: str | Path) -> str:
        """The digest of what a notebook's code cells import from the package (its scan
        memoised like a module's)."""
        path = Path(path).resolve()

        def digest() -> str:
            scan = self._scan_file(path, lambda: scan_source(notebook_code(path), ""))
            return self.digest_of(self.closure_of_requests(scan.requests if scan else []))
        return self._memoised(("<notebook>", str(path)), digest)


def notebook_code(path: str | Path) -> str:
    """A notebook's code cells as one Python source (IPython magics and shell lines dropped)."""
    nb = json.loads(Path(path).read_text())
    lines: list[str] = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else source
        lines += [line for line in text.splitlines() if not line.lstrip().startswith(("%", "!"))]
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ the default

_default: CodeIndex | None = None
_default_lock = threading.Lock()


def _memo_path() -> Path:
    from .storage import cache_dir

    own = _sha(Path(__file__).read_bytes())[:12]
    return cache_dir("codedigest") / f"py{sys.version_info[0]}{sys.version_info[1]}-{own}.json"


def default_index() -> CodeIndex:
    """The index of the ``emo_lib`` this process imported, memoised under ``$EMO_CACHE``
    (``EMO_CODEDIGEST_MEMO=0`` keeps it in memory only)."""
    global _default
    with _default_lock:
        if _default is None:
            memo = None if os.environ.get("EMO_CODEDIGEST_MEMO") == "0" else _memo_path()
            _default = CodeIndex(Path(__file__).resolve().parent, memo)
        return _default


def code_digest(*modules: str) -> str:
    """The digest of the code of ``modules`` (dotted names, e.g. ``"emo_lib.models.standin"``)
    and of every ``emo_lib`` module they import, transitively (see the module docstring)."""
    return default_index().code_digest(*modules)


def notebook_code_digest(path: str | Path) -> str:
    """The digest of the ``emo_lib`` code a notebook's cells import (its own cells are the
    page key's ``notebook`` input)."""
    return default_index().notebook_digest(path)


__all__ = ["CodeIndex", "DATA_FILES", "Request", "Scan", "code_digest", "default_index",
           "normalised_digest", "notebook_code", "notebook_code_digest", "scan_source"]
