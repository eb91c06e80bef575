"""What every notebook does around its science: parameters, provenance, glue, saved results.

A notebook opens a :class:`Run` with ``Run.from_parameters`` (which shows a compact "Parameters
of this run" table), shows where its data came from (``run.banner``), glues key numbers into its
prose (``run.glue``), saves tables and figures under ``results/<notebook>/`` and shows them
(``run.table``, ``run.figure``), writes its claims (``run.claims``: ``claims.csv``, one row per
claim, ``claims_by_seed.csv`` and ``rules.md``; given one claims table per seed, each claim's
verdict across the seeds) and ends with ``run.finish()``, which writes ``results.json``
atomically (with the key of the execution that wrote it, :mod:`emo_lib.pagekey`) and ends the page
with a provenance line (commit, lock file, profile, device with its CPU capability and threads
or its GPU, BLAS, CPU pin, determinism, seed, date, seconds), download links to the result
files and the "Re-run this page" box (:mod:`emo_lib.book.rerun`: the command, the paper
profile's line, the JupyterLab way); it glues ``page_time``, the one sentence every page opens
with on its running time. Parameters are shown in YAML notation, as ``-p KEY=VALUE`` takes them.

How tables and figures look (precision, p-values, the figure style, widths) lives in
:mod:`emo_lib.book.pagestyle`; where files go and how they are written, in :mod:`emo_lib.storage`.
Nothing here prints an absolute path or a Python repr onto a page: the values returned to a
cell (a frame, a path) do not display themselves again.
"""
from __future__ import annotations

import hashlib
import io
import os
import platform
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html import escape
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from . import pagestyle
from .rerun import rerun_markdown
from ..data.manifest import Manifest
from ..device import describe_device, machine_description, resolve_device, threads_text
from ..layout import book_root
from ..notebook_parameters import declared_parameters, literal, yaml_text
from ..pagekey import DIGESTS_FIELD, RESULTS_FIELD, current_page_key
from ..provenance import git_state, lock_hash
from ..rerun_spec import current_rerun_spec
from ..seeds import claims_across_seeds, stability_table
from ..storage import atomic_path, results_dir, write_json
from ..verdicts import claim_lines

#: The environment variable the runner sets to the profile's name (provenance reads it).
PROFILE_VARIABLE = "EMO_PROFILE"
#: The pinned environment whose hash the provenance line shows.
#: Result files a page links for download.
DOWNLOADABLE = (".csv", ".png", ".json")
#: What a figure draws, beside its PNG (``<name>.figure.json``): read by the browser test, not
#: a result (not linked for download).
FIGURE_SIDECAR = ".figure.json"


class ShownFrame(pd.DataFrame):
    """The frame ``run.table`` returns: it was shown already, so a cell ending in
    ``run.table(...)`` does not show it a second time. Anything computed from it is a plain
    DataFrame again."""

    @property
    def _constructor(self) -> type:
        return pd.DataFrame

    def _ipython_display_(self) -> None:
        pass


class QuietPath(type(Path())):  # type: ignore[misc]
    """A path returned to a notebook cell (``run.figure``, ``run.finish``): usable as any
    path, but a cell ending with it shows nothing (no ``PosixPath('/abs/...')`` on a page)."""

    def _ipython_display_(self) -> None:
        pass


def _display(obj: Any) -> None:
    try:
        from IPython.display import display
    except ImportError:  # plain Python: print instead
        print(obj)
        return
    display(obj)


def _display_bundle(html: str, text: str) -> None:
    """Show ``html`` in the book (and ``text`` in consoles)."""
    try:
        from IPython.display import display
    except ImportError:
        print(text)
        return
    display({"text/html": html, "text/plain": text}, raw=True)


def show_table(frame: pd.DataFrame, name: str, precision: int = 3) -> None:
    """Show ``frame`` formatted as :meth:`Run.table` shows one, without writing a CSV: for a
    reader's view of a table whose full CSV :meth:`Run.table` already wrote (``display=False``)
    under another name (columns chosen, renamed for reading)."""
    _display_bundle(pagestyle.table_html(frame, precision, table_id=name),
                    pagestyle.table_text(frame, precision))


def show_markdown(text: str) -> None:
    """Display MyST markdown (rendered by myst-nb, since nb_render_markdown_format is myst);
    nothing for empty text (an empty Markdown object would show its Python repr)."""
    if not text.strip():
        return
    try:
        from IPython.display import Markdown
    except ImportError:
        print(text)
        return
    _display(Markdown(text))


def provenance_text(manifests: list[Manifest], device: str) -> str:
    """The banner every page shows: synthetic or real data, which, and the device used.

    The data's folder is not shown (it is the builder's local path; ``results.json`` keeps it).
    """
    lines = [f"- **{m.name}**: {len(m.frame)} images used, {len(m.exclusions)} excluded"
             for m in manifests]
    synthetic = [m.name for m in manifests if m.synthetic]
    if synthetic:
        kind, title = "warning", "Built from synthetic data, not the papers' data"
        body = ("This page was built from the embedded synthetic faces "
                f"({', '.join(synthetic)}), generated by `emo_lib.data.synthetic` "
                "(see {ref}`synthetic-faces`). Its numbers measure the generator's "
                "mechanisms, not the paper's data: read them as a working demonstration of the "
                "method, never as a reproduction of the paper's result. "
                "To reproduce the paper, see {ref}`real-data`.")
    else:
        kind, title = "note", "Built from the real data"
        body = "This page was built from the data sets listed below."
    return (f"```{{admonition}} {title}\n:class: {kind}\n{body}\n\n" + "\n".join(lines)
            + f"\n\nDevice: {device}.\n```")


# --------------------------------------------------------------------------- parameters

def _value_text(value: Any) -> str:
    """A parameter value as ``-p KEY=VALUE`` and the profiles write it: YAML flow notation
    (``""``, ``null``, ``{}``, ``[random_crop, rotation]``, ``{method: slic}``;
    :func:`emo_lib.notebook_parameters.yaml_text`), never a Python repr. An absolute path shows
    only its last part (``…/CAFE``): the builder's folders are not the reader's business
    (results.json keeps the whole value)."""
    if isinstance(value, str) and os.path.isabs(value) and Path(value).name:
        return f"…/{Path(value).name}"
    try:
        return yaml_text(value)
    except ValueError:  # not a value YAML holds (a notebook's own object): its type, no repr
        return f"({type(value).__name__})"


def parameters_table(params: dict[str, Any], defaults: dict[str, Any]) -> pd.DataFrame:
    """One row per parameter: its value in this run and the notebook's default, both in YAML
    notation (:func:`_value_text`), and ``yes`` in ``changed`` where they differ.
    ``defaults`` as papermill reports them (source text)."""
    rows = []
    for name, value in params.items():
        default = literal(defaults.get(name))
        rows.append({"parameter": name, "value": _value_text(value),
                     "default": _value_text(default),
                     "changed": "yes" if value != default else ""})
    return pd.DataFrame(rows, columns=["parameter", "value", "default", "changed"])


def parameters_html(table: pd.DataFrame) -> str:
    """The table, folded under a summary that names the parameters this run changed: two
    columns, name and value (a changed value marked, its default beside it); the same fixed
    column widths on every page (``_static/emo.css``: ``table.emo-parameters``)."""
    changed = table.loc[table["changed"] == "yes", "parameter"].tolist()
    summary = ("Parameters of this run: " + (f"{len(changed)} changed from the notebook's "
               f"defaults ({', '.join(changed)})" if changed else "the notebook's defaults"))
    rows = []
    for r in table.itertuples(index=False):
        value = f"<code>{escape(r.value, quote=False)}</code>"
        if r.changed:
            value += (' <span class="emo-default">changed; default '
                      f"<code>{escape(r.default, quote=False)}</code></span>")
        row = '<tr class="emo-changed">' if r.changed else "<tr>"
        rows.append(f"{row}<td><code>{escape(r.parameter, quote=False)}</code></td>"
                    f"<td>{value}</td></tr>")
    return (f'<details class="emo-parameters"><summary>{escape(summary, quote=False)}'
            '</summary>\n<table class="emo-parameters"><colgroup><col class="emo-name">'
            '<col class="emo-value"></colgroup><thead><tr><th>parameter</th><th>value</th>'
            "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>\n</details>")


def parameters_text(table: pd.DataFrame) -> str:
    """The table as plain text (consoles): ``name: value`` (``changed; default: ...``)."""
    width = max((len(p) for p in table["parameter"]), default=0)
    return "\n".join(f"{r.parameter:<{width}}  {r.value}"
                     + (f"  (changed; default {r.default})" if r.changed else "")
                     for r in table.itertuples(index=False))


# --------------------------------------------------------------------------- provenance

def machine_text(machine: dict[str, Any] | None) -> list[str]:
    """The parts of the provenance line that name the machine's arithmetic: the BLAS torch and
    numpy used, the CPU pin, and on a GPU whether it ran deterministically (the device part,
    :func:`emo_lib.device.describe_device`, already names the CPU capability and thread count,
    or the GPU and its compute capability)."""
    if not machine:
        return []
    parts = [f"BLAS {machine.get('blas', 'unknown')} (numpy: "
             f"{machine.get('numpy_blas', 'unknown')})"]
    if machine.get("pin_cpu"):
        parts.append(f"CPU pinned to {machine['pin_cpu']} ({machine.get('cpu_capability')})")
    if machine.get("gpu"):
        parts.append(f"host CPU {machine.get('cpu_capability')}, "
                     f"{threads_text(int(machine.get('threads') or 1))}")
        parts.append("deterministic" if machine.get("deterministic") else
                     "not deterministic (cuDNN autotuning: numbers may differ run to run)")
    return parts


def provenance_line(prov: dict[str, Any]) -> str:
    """The provenance dict as the one line (MyST) that ends a page: commit, lock file,
    profile, device, the machine's arithmetic (:func:`machine_text`), seed, date, seconds."""
    commit = prov["commit"]
    if prov["dirty"]:
        commit_text = f"commit `{commit}` with uncommitted changes"
    elif prov["dirty"] is None:
        commit_text = "commit unknown (not a git checkout)"
    else:
        commit_text = f"commit `{commit}`"
    return ("**Provenance:** " + " · ".join([
        commit_text, f"lock file `{prov['lock_sha256']}`", f"profile `{prov['profile']}`",
        f"device {prov['device']}", *machine_text(prov.get("machine")),
        *([f"seed {_value_text(prov['seed'])}"] if prov.get("seed") is not None else []),
        prov["date"], f"{prov['seconds']:.0f} s"]))


def _markdown(text: str) -> Any:
    """``text`` as a Markdown display object (glued for ``{glue:md}``); the text itself
    outside IPython."""
    try:
        from IPython.display import Markdown
    except ImportError:
        return text
    return Markdown(text)


def time_text(seconds: float, profile: str) -> str:
    """The sentence every page opens with on its own running time (MyST): "*Computed in* 42 s
    in this build (profile `smoke`; kernel start-up and cached intermediate results not
    counted)."."""
    if seconds >= 120:
        taken = f"{int(seconds // 60)} min {seconds % 60:.0f} s"
    else:
        taken = f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    built = "no profile" if profile in ("", "none") else f"profile `{profile}`"
    return (f"*Computed in* {taken} in this build ({built}; kernel start-up and cached "
            "intermediate results not counted).")


def downloads_line(files: list[Path], book_root: Path) -> str:
    """MyST download links to ``files`` (Sphinx copies each into the built book). A path
    starting with ``/`` is relative to the book root, wherever the executed notebook lies.
    Files outside the book root are named without a link."""
    links = []
    for path in files:
        try:
            rel = Path(path).resolve().relative_to(Path(book_root).resolve())
        except ValueError:
            links.append(f"`{Path(path).name}`")
            continue
        links.append(f"{{download}}`{path.name} </{rel.as_posix()}>`")
    return "**Result files:** " + " · ".join(links) if links else ""


# --------------------------------------------------------------------------- the run

def _glue(name: str, value: Any, display: bool = False) -> None:
    """myst-nb's glue (the book pastes ``{glue:text}`name```); nothing outside a notebook."""
    try:
        from myst_nb import glue
    except ImportError:
        return
    glue(name, value, display=display)


@dataclass
class Run:
    """One execution of one notebook: device, results folder, glued values, timings."""

    notebook: str
    params: dict[str, Any] = field(default_factory=dict)
    device_request: str = "auto"
    defaults: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_parameters(cls, notebook: str, namespace: dict[str, Any],
                        display: bool = True) -> "Run":
        """A run whose ``params`` are every parameter the notebook declares (read from its
        ``parameters`` cell, as papermill does), taken from ``namespace`` (pass ``globals()``):
        results.json records them all without the notebook retyping them. Shows the
        "Parameters of this run" table (value, default, changed) unless ``display=False``."""
        declared = declared_parameters(notebook)
        run = cls(notebook, params={k: namespace[k] for k in declared},
                  defaults={k: spec["default"] for k, spec in declared.items()})
        if display:
            table = parameters_table(run.params, run.defaults)
            _display_bundle(parameters_html(table), parameters_text(table))
        return run

    def __post_init__(self) -> None:
        self.device = resolve_device(str(self.params.get("device", self.device_request)))
        self.out: Path = results_dir(self.notebook)
        self.values: dict[str, Any] = {}
        self.datasets: list[dict[str, Any]] = []
        self.files: list[Path] = []
        self.digests: dict[str, str] = {}   # file name -> SHA-256 of the bytes written
        self._t0 = time.perf_counter()
        pagestyle.apply_figure_style()

    @property
    def synthetic(self) -> bool:
        return any(d["synthetic"] for d in self.datasets)

    def _write(self, path: Path, write: Callable[[Path], Any]) -> bytes:
        """Write ``path`` through ``write`` (given a private temporary name beside it), keep the
        SHA-256 of exactly those bytes for results.json, then rename it into place; returns the
        bytes. Digesting the file after the rename could read a file another build wrote to the
        same results folder in between, and vouch for it as this execution's."""
        with atomic_path(path) as tmp:
            write(tmp)
            data = tmp.read_bytes()
        self.digests[path.name] = hashlib.sha256(data).hexdigest()
        if path not in self.files:
            self.files.append(path)
        return data

    def banner(self, *manifests: Manifest) -> None:
        """Record the data sets used and display the provenance banner."""
        for m in manifests:
            self.datasets.append({"name": m.name, "root": str(m.root) if m.root else None,
                                  "synthetic": m.synthetic, "images": len(m.frame),
                                  "excluded": len(m.exclusions)})
        show_markdown(provenance_text(list(manifests), describe_device(self.device)))

    def glue(self, name: str, value: Any, display: bool = False) -> None:
        """Glue ``value`` for the prose (``{glue:text}`name:.3f```) and keep it for results.json.

        Returns None on purpose: a cell ending in ``run.glue(...)`` shows nothing."""
        _glue(name, value, display)
        self.values[name] = value

    def table(self, frame: pd.DataFrame, name: str, display: bool = True,
              precision: int = 3, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """Save ``frame`` as ``<name>.csv`` (full precision, every column) and show it formatted
        for reading (:func:`emo_lib.book.pagestyle.table_html`: no integer index, ``precision``
        decimals, p-values as ``< 0.001``); ``columns`` shows only those (and the index), so a
        wide table fits the page while its CSV, linked at the page's end, keeps the rest.
        Returns the frame (it does not show itself again). A plain 0..n-1 index is not
        written: the CSV's columns are the frame's."""
        plain = isinstance(frame.index, pd.RangeIndex) and frame.index.name is None
        self._write(self.out / f"{name}.csv", lambda tmp: frame.to_csv(tmp, index=not plain))
        if display:
            shown = frame
            if columns is not None:
                if any(c in frame.index.names for c in columns):  # index levels can be chosen
                    shown = frame.reset_index()
                missing = [c for c in columns if c not in shown.columns]
                if missing:
                    raise ValueError(f"table {name}: columns {missing} are not in it; it has "
                                     f"{list(shown.columns)}")
                shown = shown[list(columns)]
            _display_bundle(pagestyle.table_html(shown, precision, table_id=name),
                            pagestyle.table_text(shown, precision))
        return ShownFrame(frame) if isinstance(frame, pd.DataFrame) else frame

    def claims(self, verdicts: pd.DataFrame | Mapping[int, pd.DataFrame], rules: str
               ) -> pd.DataFrame:
        """A page's claims, the same way on every page. ``verdicts``: one claims table, or one
        per seed (``{seed: table}``, same claims and rules: :func:`emo_lib.seeds.
        claims_across_seeds` gives each claim the seeds' common verdict or *varies*, and its
        stability). Writes ``claims.csv`` (the table the claims ledger reads),
        ``claims_by_seed.csv`` (one row per claim and seed) and ``rules.md`` (``rules``, the
        page's ``rules_markdown(...)``, as the ledger quotes it); shows each claim once with
        both verdicts (:func:`emo_lib.verdicts.claim_lines`), then, with several seeds, the
        verdict of each claim in each seed, then ``rules``; glues each verdict as
        ``claim_<key>`` for the page's summary. Returns the claims table."""
        by_seed = verdicts if isinstance(verdicts, Mapping) else {self._seed(): verdicts}
        table, long = claims_across_seeds(by_seed)
        self.table(table, "claims", display=False)
        self.table(long, "claims_by_seed", display=False)
        self._write(self.out / "rules.md", lambda tmp: tmp.write_text(rules + "\n"))
        show_markdown(claim_lines(table))
        if len(by_seed) > 1:
            show_markdown(f"**Across seeds.** Each claim's verdict with each of the "
                          f"{len(by_seed)} seeds ({', '.join(map(str, by_seed))}); the figures "
                          f"and numbers above are seed {next(iter(by_seed))}'s.")
            shown = stability_table(table, long)
            self.table(shown, "claims_stability",
                       columns=[c for c in shown.columns if c != "claim_id"])
        show_markdown(rules)
        for key, row in table.iterrows():
            self.glue(f"claim_{key}", row["verdict"])
        return ShownFrame(table)

    def _seed(self) -> int:
        """The seed a single claims table was computed with: the first of ``seeds``, else
        ``seed``, else 0."""
        seeds = self.params.get("seeds")
        if isinstance(seeds, (list, tuple)) and seeds:
            return int(seeds[0])
        seed = self.params.get("seed")
        return int(seed) if isinstance(seed, int) and not isinstance(seed, bool) else 0

    def figure(self, fig: Any, name: str, display: bool = True,
               promises: Sequence[str | Mapping[str, str]] = ()) -> Path:
        """Fit ``fig`` to the page (:func:`emo_lib.book.pagestyle.fit_figure`: text >= 9 pt at the
        size shown), save it as ``<name>.png`` and show that very file at page size.

        Beside the PNG, ``<name>.figure.json`` (:data:`FIGURE_SIDECAR`) records what the figure
        draws (:func:`emo_lib.book.pagestyle.figure_inventory`: series, points, markers, legend
        entries) and ``promises``: the series the page's caption or prose promises, each a
        label (``"paper"``) or ``{"label": "paper", "marker": "x"}``; the browser test fails a
        promise that no drawn series keeps, and a legend that shows a program's identifier."""
        fig = getattr(fig, "figure", fig)  # also an Axes or a seaborn grid
        pagestyle.fit_figure(fig)
        path = self.out / f"{name}.png"
        png_bytes = self._write(path, lambda tmp: fig.savefig(
            tmp, dpi=pagestyle.FIGURE_DPI, bbox_inches="tight", format="png"))
        promised = [{"label": p} if isinstance(p, str) else dict(p) for p in promises]
        bad = [p for p in promised if not str(p.get("label") or "").strip()]
        if bad:
            raise ValueError(f"figure {name}: each promise needs a label (the series' label "
                             f"as drawn), got {bad}")
        write_json(self.out / f"{name}{FIGURE_SIDECAR}",
                   {"figure": f"{name}.png", **pagestyle.figure_inventory(fig),
                    "promises": promised})
        if display:
            try:
                from IPython.display import Image
                from PIL import Image as PILImage

                with PILImage.open(io.BytesIO(png_bytes)) as png:
                    width = pagestyle.shown_width_px(png.width)
                _display(Image(data=png_bytes, format="png", width=width))
            except ImportError:
                print(f"figure {name} saved")
        try:
            import matplotlib.pyplot as plt
            plt.close(fig)
        except ImportError:
            pass
        return QuietPath(path)

    def provenance(self) -> dict[str, Any]:
        """Commit (and whether the tree was dirty), lock-file hash, profile, device, the
        machine (:func:`emo_lib.device.machine_description`: CPU capability, BLAS, threads,
        CPU pin, GPU, determinism), seed, date and seconds of this run."""
        git = git_state()
        commit = (git["commit"] or "unknown")[:12]
        return {"commit": commit, "dirty": git["dirty"], "lock_sha256": lock_hash(),
                "profile": os.environ.get(PROFILE_VARIABLE) or "none",
                "device": describe_device(self.device),
                "machine": machine_description(self.device), "seed": self.params.get("seed"),
                "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "seconds": round(time.perf_counter() - self._t0, 2)}

    def finish(self, **extra: Any) -> Path:
        """Write ``results.json`` (atomically; ``page_key``: the key the runner gave this
        execution, None outside ``emo-book``) and end the page with the provenance line and
        download links to this run's result files. Returns the path of results.json."""
        prov = self.provenance()
        # The page's own running time and profile, for its opening lines: glued for the prose
        # only, not results (a timing is not a result to compare across runs). Every page
        # writes {glue:md}`page_time`, one wording for all (markdown, so that it is not set in
        # the bold of a pasted number); the parts stay glued for pages that word it themselves.
        _glue("page_seconds", float(prov["seconds"]))
        _glue("page_profile", str(prov.get("profile", "none")))
        _glue("page_time", _markdown(time_text(float(prov["seconds"]),
                                               str(prov.get("profile", "none")))))
        path = self.out / "results.json"
        files = [*self.files, path]
        record = {
            "notebook": self.notebook, "params": self.params, "defaults": self.defaults,
            "device": prov["device"], "datasets": self.datasets,
            "synthetic": self.synthetic, "values": self.values, "extra": extra,
            "seconds": prov["seconds"], "python": platform.python_version(),
            "provenance": prov, "files": [p.name for p in files],
            RESULTS_FIELD: current_page_key(),
            DIGESTS_FIELD: dict(self.digests),
        }
        write_json(path, record)
        links = downloads_line([p for p in files if p.suffix in DOWNLOADABLE], book_root())
        # one output: the browser test knows that the provenance line, the result files and
        # the re-run box may follow a page's summary
        box = rerun_markdown(self.notebook, self.params, self.defaults,
                             current_rerun_spec(self.notebook))
        show_markdown(provenance_line(prov) + ("\n\n" + links if links else "") + "\n\n" + box)
        return QuietPath(path)
