"""How results look on a book page: the figure style, figures fitted to the content column,
tables formatted for reading.

Holds the project's matplotlib style (:data:`FIGURE_STYLE`), :func:`fit_figure` (no text below
:data:`MIN_FONT_PT` at the size the figure is shown) and the table formatting rules
(:func:`display_frame`, :func:`format_cell`, :func:`table_html`, :func:`table_text`): no integer
index, no empty header rows, no truncated text, numbers to a fixed precision, p-values as
``< 0.001``. It does not save anything or talk to the notebook (that is
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
