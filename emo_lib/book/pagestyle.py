"""How results look on a book page: the figure style, figures fitted to the content column,
tables formatted for reading.

Holds the project's matplotlib style (:data:`FIGURE_STYLE`), :func:`fit_figure` (no text below
:data:`MIN_FONT_PT` at the size the figure is shown) and the table formatting rules
(:func:`display_frame`, :func:`format_cell`, :func:`table_html`, :func:`table_text`): no integer
index, no empty header rows, no truncated text, numbers to a fixed precision, p-values as
``< 0.001``; and :func:`figure_inventory`, what a figure draws (series, points, markers,
legends) as data, so that a check can read it where pixels cannot be read. It does not save
anything or talk to the notebook (that is
:class:`emo_lib.book.report.Run`); the CSV files keep full precision, only the page is rounded.

The sizes come from the built book. In the Jupyter Book theme the text column is 688 CSS pixels
wide in a 1280-pixel window (624 at 1200, 790 from 1440 up), measured in headless Chromium on
the smoke build. A figure saved at :data:`FIGURE_DPI` is shown at ``width * 96 / dpi`` CSS
pixels, so a figure at most :data:`CONTENT_COLUMN_PX` / 96 inches wide is never scaled down on
a 1280-pixel screen and its text keeps its point size (1 pt = 96/72 CSS pixels).
"""
from __future__ import annotations

import math
import re
import warnings
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from ..formatting import MISSING, column_decimals, format_p, format_small
from ..formatting import format_number as _format_number

#: Width of the page's text column in CSS pixels (1280-pixel window; see the module docstring).
CONTENT_COLUMN_PX = 688
#: Smallest text allowed in a figure, in points at the size it is shown.
MIN_FONT_PT = 9.0
#: Resolution of saved figures: 1.5 device pixels per CSS pixel, sharp on high-density screens.
FIGURE_DPI = 144
#: CSS pixels per inch (fixed by the CSS standard).
CSS_PX_PER_INCH = 96

#: The project's matplotlib style, applied by ``Run`` before a notebook draws anything.
FIGURE_STYLE: dict[str, Any] = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "figure.titlesize": 12,
    "figure.figsize": (6.4, 3.6),          # fits the column (6.4 in = 614 CSS px)
    "figure.dpi": CSS_PX_PER_INCH,         # interactive sessions show figures at page size
    "savefig.dpi": FIGURE_DPI,
    "savefig.bbox": "tight",
    "axes.spines.top": False,
    "axes.spines.right": False,
}

_P_COLUMN = re.compile(r"^(p|p[ _-]?values?|.*[ _(]p[ _-]?values?\)?|.*_p)$", re.IGNORECASE)


# --------------------------------------------------------------------------- figures

def apply_figure_style() -> None:
    """Set :data:`FIGURE_STYLE` in matplotlib's rcParams (figures drawn afterwards use it)."""
    import matplotlib

    matplotlib.rcParams.update(FIGURE_STYLE)


def _texts(fig: Any) -> list[Any]:
    from matplotlib.text import Text

    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def _raise_small_fonts(fig: Any, min_pt: float) -> None:
    for ax in fig.get_axes():
        for axis, which in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            for major in (True, False):
                ticks = axis.get_major_ticks() if major else axis.get_minor_ticks()
                if ticks and ticks[0].label1.get_fontsize() < min_pt:
                    # tick_params also sets the size of ticks created later (on resize)
                    ax.tick_params(axis=which, which="major" if major else "minor",
                                   labelsize=min_pt)
    fig.draw_without_rendering()
    for text in _texts(fig):
        if text.get_fontsize() < min_pt:
            text.set_fontsize(min_pt)


def _tight_width_in(fig: Any) -> float:
    return fig.get_tightbbox().width  # inches, as savefig(bbox_inches="tight") crops


def _shows_images(fig: Any) -> bool:
    """Whether the figure is a grid of pictures (its shape should be kept when it shrinks)."""
    return any(ax.get_images() and ax.get_aspect() == 1.0 for ax in fig.get_axes())


def fit_figure(fig: Any, column_px: float = CONTENT_COLUMN_PX,
               min_font_pt: float = MIN_FONT_PT) -> Any:
    """Make ``fig`` readable at page width, in place: every text at least ``min_font_pt``
    points, and the figure (as saved with a tight bounding box) no wider than the column, so
    it is never scaled down when shown. Returns ``fig``.

    A figure too wide is narrowed; a chart keeps its height (its plotting area stays usable
    beside text of unchanged size), a grid of pictures shrinks in both directions (it keeps its
    shape). Figures laid out with ``tight_layout`` are laid out again.
    """
    import matplotlib

    fig.draw_without_rendering()
    _raise_small_fonts(fig, min_font_pt)
    # savefig(bbox_inches="tight") adds pad_inches on each side of the tight box
    limit_in = column_px / CSS_PX_PER_INCH - 2 * float(matplotlib.rcParams["savefig.pad_inches"])
    keep_shape = _shows_images(fig)
    for _ in range(6):  # the tight box does not scale exactly with the figure: iterate
        fig.draw_without_rendering()
        width = _tight_width_in(fig)
        if width <= limit_in:
            break
        factor = limit_in / width * 0.99
        w, h = fig.get_size_inches()
        fig.set_size_inches(w * factor, h * factor if keep_shape else h, forward=False)
        # constrained layout re-runs by itself; a figure laid out once by tight_layout (left
        # with a placeholder engine) or never is laid out again for its new size
        engine = type(fig.get_layout_engine()).__name__
        if engine in ("NoneType", "PlaceHolderLayoutEngine", "TightLayoutEngine"):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    fig.tight_layout()
                except (RuntimeError, ValueError):
                    pass  # an incompatible colorbar layout: keep the figure's own
    return fig


def shown_width_px(png_width_px: int, dpi: float = FIGURE_DPI) -> int:
    """CSS width at which a PNG saved at ``dpi`` is shown so that 1 inch = 96 CSS pixels."""
    return math.ceil(png_width_px * CSS_PX_PER_INCH / dpi)  # never below the nominal size


# --------------------------------------------------------------------------- tables

def is_p_value_column(name: Any) -> bool:
    """Whether a column holds p-values: ``p``, ``p_value``, ``... p-value``, ``*_p``
    (any case; for a multi-level column, its last level)."""
    if isinstance(name, tuple):
        name = next((n for n in reversed(name) if str(n).strip()), "")
    return bool(_P_COLUMN.match(str(name).strip()))


def format_p_value(p: Any) -> str:
    """A p-value cell: :func:`emo_lib.formatting.format_p` (``< 0.001``, else two significant
    digits), :data:`MISSING` when absent."""
    return format_p(p, missing=MISSING)


def format_number(x: Any, precision: int = 3, integral: bool = False,
                  small: bool = False) -> str:
    """One number as the page shows it (:mod:`emo_lib.formatting`).

    ``integral``: show a whole float as an integer (its column or row holds only whole
    numbers: counts, sizes). ``small``: its column holds only values too small for
    ``precision`` decimals (learning rates): two significant digits, written out. Otherwise
    ``precision`` fixed decimals: never scientific notation, never ``-0.000``.
    """
    if isinstance(x, Real) and not isinstance(x, (Integral, bool, np.bool_)) \
            and math.isfinite(x):
        if integral and float(x).is_integer():
            return str(int(x))
        if small:
            return format_small(x, missing=MISSING)
    return _format_number(x, precision, missing=MISSING)


def _whole(values: Any) -> bool:
    v = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    return len(v) > 0 and bool(np.all(np.isfinite(v)) and np.all(np.mod(v, 1) == 0))


def _whole_row(values: Any) -> bool:
    """A row of whole numbers, one of them beyond 1: counts or sizes (a row of accuracies
    that happen to be 0 or 1 still shows decimals)."""
    v = pd.to_numeric(pd.Series(values), errors="coerce").dropna()
    return _whole(v) and bool((v.abs() > 1).any())


def display_frame(frame: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """The frame a page shows: a meaningful index becomes ordinary leading column(s) (headed by
    its name, or blank), an integer 0..N index is dropped, and index / column-axis names (which
    would print as extra, mostly empty header rows) are removed."""
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    frame = frame.copy()
    index = frame.index
    default_index = (isinstance(index, pd.RangeIndex) and index.name is None
                     and index.start == 0 and index.step == 1)
    if default_index:
        frame = frame.reset_index(drop=True)
    else:
        names = [n if n is not None else "" for n in index.names]
        if len(set(names)) < len(names):  # unnamed levels: distinct blank headers
            names = [n or " " * (i + 1) for i, n in enumerate(names)]
        frame.index = frame.index.set_names(
            [f"\0{i}" for i in range(index.nlevels)])  # placeholder names never clash
        frame = frame.reset_index()
        mapping = {f"\0{i}": n for i, n in enumerate(names)}
        if isinstance(frame.columns, pd.MultiIndex):
            frame.columns = pd.MultiIndex.from_tuples(
                [(mapping.get(c[0], c[0]), *c[1:]) for c in frame.columns])
        else:
            frame.columns = [mapping.get(c, c) for c in frame.columns]
    frame.columns = frame.columns.set_names([None] * frame.columns.nlevels)
    return frame


def _numeric_columns(frame: pd.DataFrame) -> list[bool]:
    return [pd.api.types.is_numeric_dtype(frame.iloc[:, j])
            and not pd.api.types.is_bool_dtype(frame.iloc[:, j]) for j in range(frame.shape[1])]


def formatted_cells(frame: pd.DataFrame, precision: int = 3) -> pd.DataFrame:
    """Every cell of a :func:`display_frame` as the text the page shows (strings untouched).

    Whole numbers show as integers when their column holds only whole numbers, or their row
    does (across the float columns: a "paper / this run / difference" table has one quantity a
    row); p-value columns as :func:`format_p_value`; other numbers to ``precision`` decimals,
    except a column whose values all round to zero there (learning rates), which keeps
    two significant digits (:func:`emo_lib.formatting.column_decimals`).
    """
    kinds = _numeric_columns(frame)
    floats = [j for j in range(frame.shape[1])
              if kinds[j] and pd.api.types.is_float_dtype(frame.iloc[:, j])]
    whole_columns = [kinds[j] and _whole(frame.iloc[:, j]) for j in range(frame.shape[1])]
    whole_rows = [bool(floats) and _whole_row(frame.iloc[i, floats]) for i in range(len(frame))]
    small_columns = [kinds[j] and column_decimals(frame.iloc[:, j], precision) is None
                     for j in range(frame.shape[1])]
    out = pd.DataFrame(index=frame.index, columns=frame.columns, dtype=object)
    for j, column in enumerate(frame.columns):
        p_column = kinds[j] and is_p_value_column(column)
        for i in range(len(frame)):
            value = frame.iat[i, j]
            if p_column:
                text = format_p_value(value)
            elif isinstance(value, str):
                text = value
            else:
                text = format_number(value, precision, whole_columns[j] or whole_rows[i],
                                     small_columns[j])
            out.iat[i, j] = text
    return out


def table_html(frame: pd.DataFrame | pd.Series, precision: int = 3, table_id: str = "t") -> str:
    """HTML for the page: no index, every cell formatted, nothing truncated, text escaped."""
    from pandas.io.formats.style import Styler

    shown = display_frame(frame)
    cells = formatted_cells(shown, precision)
    # numbers right-aligned and never broken ("< 0.001"); text left-aligned and wrapped
    # the theme gives table cells 1 px of padding; a smaller font (13 px, as notebooks show
    # tables) keeps the width
    styles = [{"selector": "", "props": "font-size: 0.8125em; margin-bottom: 1em;"},
              {"selector": "td, th", "props": "padding: 0.2em 0.45em; vertical-align: top;"}]
    for j, numeric in enumerate(_numeric_columns(shown)):
        align = "text-align: right;" if numeric else "text-align: left;"
        styles += [{"selector": f"td.col{j}", "props": align + (" white-space: nowrap;"
                                                                if numeric else "")},
                   {"selector": f"th.col_heading.col{j}", "props": align}]
    styler = Styler(cells, cell_ids=False, uuid=table_id)
    styler = (styler.hide(axis="index").set_table_attributes('class="dataframe"')
              .set_table_styles(styles)
              .format(_breakable).format_index(_breakable, axis="columns", level=None))
    return styler.to_html()


def _breakable(text: Any) -> str:
    """Escaped for HTML, with a line-break opportunity after each underscore: a header such
    as ``copies_random_crop`` may wrap instead of widening its column."""
    from html import escape

    return escape(str(text), quote=False).replace("_", "_<wbr>")


def table_text(frame: pd.DataFrame | pd.Series, precision: int = 3) -> str:
    """The same table as plain text (consoles, the notebook's text/plain)."""
    shown = display_frame(frame)
    cells = formatted_cells(shown, precision)
    if isinstance(cells.columns, pd.MultiIndex):
        cells.columns = [" / ".join(str(p) for p in c if str(p).strip()) for c in cells.columns]
    return cells.to_string(index=False, max_colwidth=None)


# --------------------------------------------------------------------------- what a figure draws

#: Markers a scatter's path is matched against (a scatter keeps the path, not the marker's name).
_MARKERS = ("o", "x", "s", "^", "v", "<", ">", "D", "d", "+", "*", "P", "X", "p", "h", "H", ".",
            "1", "2", "3", "4", "|", "_")


def _marker_name(marker: Any) -> str | None:
    """A Line2D's marker as a name, None when it draws none."""
    return None if marker in (None, "", " ", "None", "none") else str(marker)


def _scatter_marker(collection: Any) -> str | None:
    """The marker a scatter (PathCollection) draws, by its path; None when it is none of
    :data:`_MARKERS`."""
    from matplotlib.markers import MarkerStyle

    paths = collection.get_paths()
    if not paths:
        return None
    drawn = paths[0].vertices
    for name in _MARKERS:
        style = MarkerStyle(name)
        path = style.get_path().transformed(style.get_transform())
        if path.vertices.shape == drawn.shape and np.allclose(path.vertices, drawn):
            return name
    return None


def _finite_points(x: Any, y: Any) -> int:
    try:
        xs = np.asarray(x, dtype=float).ravel()
        ys = np.asarray(y, dtype=float).ravel()
    except (TypeError, ValueError):  # categorical data: every point counts
        return int(min(np.size(x), np.size(y)))
    n = min(len(xs), len(ys))
    return int(np.sum(np.isfinite(xs[:n]) & np.isfinite(ys[:n])))


def _rgb(value: Any) -> tuple[float, ...] | None:
    """A colour as RGB rounded to 3 decimals (alpha ignored: a legend's proxy may differ in it);
    the first of several; None when there is none."""
    from matplotlib.colors import to_rgba

    if not isinstance(value, str):
        array = np.asarray(value, dtype=float)
        if array.ndim == 2:
            if len(array) == 0:
                return None
            array = array[0]
        value = array
    try:
        return tuple(round(c, 3) for c in to_rgba(value)[:3])
    except (TypeError, ValueError):
        return None


def _groups(colours: list[Any], markers: list[str | None]) -> list[dict[str, Any]]:
    counts: dict[tuple[Any, Any], int] = {}
    for colour, marker in zip(colours, markers):
        counts[(colour, marker)] = counts.get((colour, marker), 0) + 1
    return [{"colour": c, "marker": m, "points": n} for (c, m), n in counts.items()]


def _scatter(collection: Any, index: int) -> dict[str, Any]:
    """One scatter: its finite points, grouped by colour and marker (seaborn draws a whole hue
    and style in one collection)."""
    offsets = np.asarray(collection.get_offsets(), dtype=float).reshape(-1, 2)
    finite = np.all(np.isfinite(offsets), axis=1)
    n = len(offsets)
    faces = np.asarray(collection.get_facecolors(), dtype=float).reshape(-1, 4)
    if len(faces) == 0:  # unfilled markers ("x", "+") are drawn in their edge colour
        faces = np.asarray(collection.get_edgecolors(), dtype=float).reshape(-1, 4)
    colours = [_rgb(faces[i % len(faces)]) if len(faces) else None for i in range(n)]
    paths = collection.get_paths()
    if len(paths) == n and n > 1:
        markers = [_scatter_marker(type(collection)([p])) for p in paths]
    else:
        markers = [_scatter_marker(collection)] * n
    keep = [i for i in range(n) if finite[i]]
    groups = _groups([colours[i] for i in keep], [markers[i] for i in keep])
    return {"axes": index, "label": collection.get_label(), "kind": "scatter",
            "points": len(keep), "marker": markers[0] if len(set(markers)) == 1 and n else None,
            "groups": groups}


def _line(line: Any, index: int, label: str, kind: str) -> dict[str, Any]:
    points = _finite_points(line.get_xdata(), line.get_ydata())
    marker = _marker_name(line.get_marker())
    colour = _rgb(line.get_markerfacecolor() if marker else line.get_color())
    return {"axes": index, "label": label, "kind": kind, "points": points, "marker": marker,
            "groups": [{"colour": colour, "marker": marker, "points": points}]}


def _series(ax: Any, index: int) -> list[dict[str, Any]]:
    """What one Axes draws, one entry per line, scatter, bar group or error-bar series."""
    from matplotlib.collections import PathCollection

    out: list[dict[str, Any]] = []
    owned: set[int] = set()
    for container in ax.containers:
        kind = type(container).__name__
        if kind == "BarContainer":
            owned |= {id(p) for p in container.patches}
            heights = np.asarray([p.get_height() for p in container.patches], float)
            colours = [_rgb(p.get_facecolor()) for p in container.patches]
            keep = [i for i, h in enumerate(heights) if np.isfinite(h)]
            out.append({"axes": index, "label": container.get_label(), "kind": "bar",
                        "points": len(keep), "marker": None,
                        "groups": _groups([colours[i] for i in keep], [None] * len(keep))})
        elif kind == "ErrorbarContainer" and container.lines[0] is not None:
            owned.add(id(container.lines[0]))
            out.append(_line(container.lines[0], index, container.get_label(), "errorbar"))
    out += [_line(line, index, line.get_label(), "line") for line in ax.get_lines()
            if id(line) not in owned]
    out += [_scatter(c, index) for c in ax.collections if isinstance(c, PathCollection)]
    return out


def _legend_entries(legend: Any, series: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each legend entry: its text and the finite points of what it stands for: the series of
    that label, else (a proxy handle, as seaborn makes for a hue or style) the drawn points of
    its colour and marker."""
    handles = getattr(legend, "legend_handles", None) or getattr(legend, "legendHandles", [])
    entries = []
    for text, handle in zip(legend.get_texts(), handles):
        label = text.get_text()
        # seaborn's legend proxies are empty artists of the same label: not what is drawn
        named = [s for s in series if s["label"] == label and s["points"]]
        marker = colour = None
        if hasattr(handle, "get_marker"):
            marker = _marker_name(handle.get_marker())
            colour = _rgb(handle.get_markerfacecolor() if marker else handle.get_color())
        elif hasattr(handle, "get_paths") and hasattr(handle, "get_facecolor"):
            marker, colour = _scatter_marker(handle), _rgb(handle.get_facecolor())
        elif hasattr(handle, "get_facecolor"):
            colour = _rgb(handle.get_facecolor())
        if named:
            points = sum(s["points"] for s in named)
            marker = marker or next((s["marker"] for s in named if s["marker"]), None)
        else:
            points = sum(g["points"] for s in series for g in s["groups"]
                         if colour is not None and g["colour"] == colour
                         and (marker is None or g["marker"] in (None, marker)))
        entries.append({"label": label, "points": int(points), "marker": marker})
    return entries


def figure_inventory(fig: Any) -> dict[str, Any]:
    """What ``fig`` draws, for checks that cannot read pixels: every series (``axes``,
    ``label``, ``kind``, finite ``points``, ``marker``, and its points by colour and marker in
    ``groups``) and every visible legend (``title``; ``entries``: label, points, marker), as
    JSON-able data. A label starting with ``_`` is matplotlib's name for an unlabelled
    artist."""
    fig = getattr(fig, "figure", fig)
    series: list[dict[str, Any]] = []
    for i, ax in enumerate(fig.get_axes()):
        series += _series(ax, i)
    legends = [ax.get_legend() for ax in fig.get_axes()] + list(fig.legends)
    return {"series": series,
            "legends": [{"title": legend.get_title().get_text(),
                         "entries": _legend_entries(legend, series)}
                        for legend in legends if legend is not None and legend.get_visible()]}
