"""The built book, read in a real browser (headless Chromium), page by page.

Fails on what a reader would see go wrong: raw TeX left after MathJax ran, a broken image, a
page without its figures (each PNG in ``results/<notebook>/`` shown on that notebook's page), a
Python repr (``<Figure size ...>``, ``PosixPath(...)``), an absolute path in the visible text,
content wider than the text column, anything loaded from the network, a doubled word, None/nan
in prose or tables, scientific notation in a fixed-decimal column, a program's identifier in a
table header or a figure's legend, output after the summary, and a figure whose caption
promises a series or marker that is not drawn. Figures are checked through the data they were
drawn from: the ``<name>.figure.json`` beside each PNG (``Run.figure``: the series drawn, their
points and markers, the legend entries, and the series the page promised). Saves one screenshot per
page under ``_build/screenshots/`` (``EMO_SCREENSHOTS`` to put them elsewhere) for a person to
look at.

Needs Chromium (Debian's ``chromium`` package; ``.ci/run`` installs it); without it these tests
are skipped with a message saying how to enable them (they fail instead when
``EMO_REQUIRE_BROWSER`` is set, as ``.ci/run`` does). The book is the session's tiny-profile
build (tests/conftest.py), or ``EMO_BOOK_HTML=<book>/_build/html`` to check a book built with
``make book``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

try:
    from . import cdp
except ImportError:
    import cdp

ROOT = Path(__file__).resolve().parent.parent
#: Window size the pages are read at: the text column is 688 CSS pixels wide there.
WINDOW = (1280, 900)
#: Files of a built book that are not pages of the book.
NOT_PAGES = {"genindex.html", "search.html"}

_RAW_TEX = re.compile(
    r"\\[()\[\]]|\$\$|\\(frac|mathrm|mathbf|text|sum|times|cdot|left|right|sqrt|alpha|beta"
    r"|leq?|geq?|min|max|operatorname)\b|\$[^$\s][^$\n]{0,80}?[_^\\{][^$\n]{0,80}?\$")
_REPR = re.compile(r"<Figure size [^>]*>|\b(Posix|Windows|Pure\w*)Path\(|<[\w.]+ object at 0x"
                   r"[0-9a-fA-F]+>|<(IPython|matplotlib|pandas|torch)\.[\w.]+[ >]")
_ABSOLUTE_PATH = re.compile(
    r"(?<![\w.~/-])/(work|home|tmp|root|Users|mnt|scratch|private|var/folders|opt|srv|data)/"
    r"[^\s'\"`<>]*")

#: The same word twice in a row ("The The claims ledger"), across a tag boundary too.
_DOUBLED = re.compile(r"\b([A-Za-z]{2,})\s+\1\b", re.IGNORECASE)
#: What Python writes for a missing value, never meant for a reader.
_MISSING = re.compile(r"(?<![\w.])(None|nan|NaN)(?![\w])")
#: A number written with a fixed count of decimals, and one in scientific notation.
_FIXED = re.compile(r"^[+\-\u2212]?\d+\.\d+$")
_SCIENTIFIC = re.compile(r"^[+\-\u2212]?\d+(\.\d+)?[eE][+\-\u2212]?\d+$")
#: A program's identifier (snake_case) where a reader expects a name.
_IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*(_[a-z0-9]+)+\b")


def table_findings(table: dict[str, Any]) -> list[str]:
    """What a reader should not see in one rendered table: a header that is a program's
    identifier, a missing value written as None/nan, or a number in scientific notation in a
    column of fixed-decimal numbers."""
    found = []
    for header in table["headers"]:
        if m := _IDENTIFIER.search(header):
            found.append(f"identifier in a table header: {m.group(0)!r} (in {header!r})")
    rows = table["rows"]
    for row in rows:
        for cell in row:
            if m := _MISSING.search(cell):
                found.append(f"None/nan in a table: {cell[:60]!r}")
    width = max((len(r) for r in rows), default=0)
    for j in range(width):
        column = [r[j] for r in rows if j < len(r)]
        fixed = [c for c in column if _FIXED.match(c)]
        for c in column:
            if len(fixed) >= 2 and _SCIENTIFIC.match(c):
                name = table["headers"][j] if j < len(table["headers"]) else f"column {j + 1}"
                found.append(f"scientific notation in a fixed-decimal column: {c} (in {name!r})")
    return found


def _same_label(a: str, b: str) -> bool:
    return " ".join(str(a).split()).casefold() == " ".join(str(b).split()).casefold()


def figure_findings(sidecar: dict[str, Any], name: str) -> list[str]:
    """What a reader should not see in one figure, from what it was drawn from (its
    ``.figure.json``): a program's identifier in a legend (entry or title), and a series the
    page's caption promises (label, and marker if named) that no drawn series with at least
    one finite point keeps."""
    found = []
    for legend in sidecar.get("legends", []):
        for text in [legend.get("title", "")] + [e.get("label", "") for e in legend["entries"]]:
            if m := _IDENTIFIER.search(text):
                found.append(f"identifier in a figure legend: {m.group(0)!r} (in {name})")
    drawn = [(s["label"], s["points"], {s.get("marker")} | {g.get("marker") for g in
                                                            s.get("groups", [])})
             for s in sidecar.get("series", [])]
    drawn += [(e["label"], e["points"], {e.get("marker")})
              for legend in sidecar.get("legends", []) for e in legend["entries"]]
    for promise in sidecar.get("promises", []):
        label, marker = promise["label"], promise.get("marker")
        if not any(_same_label(label, lab) and points > 0 and (marker is None or marker in marks)
                   for lab, points, marks in drawn):
            shown = sorted({f"{lab} ({points})" for lab, points, _ in drawn
                            if not str(lab).startswith("_")})
            found.append(f"figure promise not drawn: {label!r}"
                         + (f" with marker {marker!r}" if marker else "")
                         + f" (in {name}; drawn, with points: {', '.join(shown) or 'nothing'})")
    return found


def results_figure_findings(results: Path) -> list[str]:
    """:func:`figure_findings` of every figure a page saved in its results folder."""
    import json

    found = []
    for path in sorted(results.glob("*.figure.json")) if results.is_dir() else []:
        found += figure_findings(json.loads(path.read_text()),
                                 path.name.removesuffix(".figure.json") + ".png")
    return found


#: Runs in the page once it has loaded: waits for MathJax and the images, then measures.
_INSPECT = r"""
(async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  let mathjax = "none";
  if (document.querySelector('script[src*="mathjax"]')) {
    for (let i = 0; i < 30 && !(window.MathJax && MathJax.startup && MathJax.startup.promise); i++)
      await sleep(100);
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      await MathJax.startup.promise; mathjax = "typeset";
    } else mathjax = "not loaded";
  }
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = "eager"; });
  await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => {
    i.addEventListener("load", r); i.addEventListener("error", r); setTimeout(r, 10000); })));
  const images = imgs.map(i => ({src: i.getAttribute("src") || "", natural: i.naturalWidth,
                                 shown: Math.round(i.getBoundingClientRect().width)}));
  const main = document.querySelector("main") || document.body;
  // Code the author wrote (notebook input cells, code blocks in the prose) is code: it is
  // neither unrendered math nor a leaked path, and it may scroll sideways like on any docs site.
  // What the notebooks printed or displayed (cell outputs) is checked like the prose.
  const authorCode = el => !!(el.closest(".cell_input") ||
                              (el.closest("div.highlight, pre") && !el.closest(".cell_output")));
  const prose = [], shown = [];
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || !n.textContent.trim() || el.closest("script, style") || !el.checkVisibility())
      continue;
    if (authorCode(el)) continue;
    shown.push(n.textContent);
    if (!el.closest("pre, code, textarea, mjx-container, .MathJax")) prose.push(n.textContent);
  }
  const col = document.querySelector("article.bd-article") || main;
  const cs = getComputedStyle(col);
  const box = col.getBoundingClientRect();
  const right = box.right - parseFloat(cs.paddingRight);
  const width = Math.round(box.width - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight));
  const describe = el => {
    const cls = typeof el.className === "string" && el.className.trim()
      ? "." + el.className.trim().split(/\s+/).slice(0, 3).join(".") : "";
    return el.tagName.toLowerCase() + cls + ' "' +
      (el.innerText || el.getAttribute("src") || "").trim().replace(/\s+/g, " ").slice(0, 60) + '"';
  };
  // MathJax's copy of each formula for screen readers is invisible (clipped) but counts in
  // scrollWidth: leave it out of the measurement.
  document.querySelectorAll("mjx-assistive-mml").forEach(e => { e.style.display = "none"; });
  const overflow = [], reported = [];
  for (const el of col.querySelectorAll("*")) {
    if (authorCode(el) || reported.some(r => r.contains(el))) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const ox = getComputedStyle(el).overflowX;
    // A formula's width is that of its rendering (mjx-math): the italic overhang of MathJax's
    // glyphs adds a few pixels to scrollWidth that nobody sees.
    const formula = el.matches(".math, mjx-container") && el.querySelector("mjx-math");
    const content = formula ? Math.ceil(formula.getBoundingClientRect().width) : el.scrollWidth;
    if (ox !== "visible" && ox !== "clip" && content > el.clientWidth + 2) {
      overflow.push(`${describe(el)} scrolls sideways: ${content} px of content in ` +
                    `${el.clientWidth} px`);
      reported.push(el);
    } else if (r.right > right + 2) {
      overflow.push(`${describe(el)} runs ${Math.round(r.right - right)} px past the ` +
                    `${width} px column`);
      reported.push(el);
    }
  }
  // Each block of prose as one text (a doubled word can span a link), code left out.
  const blocks = [...col.querySelectorAll("p, li, td, th, h1, h2, h3, h4, dt, dd, figcaption")]
    .filter(el => el.checkVisibility() && !authorCode(el)).map(el => {
      const copy = el.cloneNode(true);
      copy.querySelectorAll("code, pre, mjx-container, .MathJax, script, style")
        .forEach(c => c.remove());
      return copy.textContent.replace(/\s+/g, " ").trim(); }).filter(t => t);
  // Tables as a reader sees them: header cells and body rows, visible text only.
  const cellText = c => (c.innerText || "").replace(/\s+/g, " ").trim();
  const tables = [...col.querySelectorAll("table")].filter(t => t.checkVisibility())
    .map(t => ({headers: [...t.querySelectorAll("thead th")].map(cellText),
                rows: [...t.querySelectorAll("tbody tr")].map(
                  r => [...r.querySelectorAll("th, td")].map(cellText))}));
  // What the page shows after its summary: the last section titled "Summary" may hold prose
  // and the provenance line, nothing a cell displayed besides.
  const summary = [...col.querySelectorAll("section")].filter(sec => {
    const h = sec.querySelector(":scope > h1, :scope > h2, :scope > h3");
    return h && /^\s*summary/i.test(h.textContent); }).pop();
  const afterSummary = summary ? [...summary.querySelectorAll(".cell_output > *")]
    .filter(o => o.checkVisibility() &&
            !/^\s*(Provenance:|Result files:|Re-run this page)/.test(o.innerText))
    .map(o => (o.innerText || o.querySelector("img")?.getAttribute("src") || "")
      .trim().replace(/\s+/g, " ").slice(0, 60)) : [];
  const page = document.documentElement;
  if (page.scrollWidth > window.innerWidth + 1)
    overflow.push(`the page is ${page.scrollWidth} px wide in a ${window.innerWidth} px window`);
  return {mathjax, images, prose, text: shown, overflow, column: width, tables, afterSummary,
          blocks};
})()
"""


@dataclass
class PageReport:
    page: str
    findings: list[str] = field(default_factory=list)
    column_px: int = 0
    screenshot: Path | None = None


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _looks_alike(a: Path, b: Path) -> bool:
    """The same figure drawn twice at other sizes (a book whose figures were shown by the
    notebook's backend rather than from the saved file): same shape, same picture when both
    are shrunk to 48 x 48 grey pixels."""
    import numpy as np
    from PIL import Image

    with Image.open(a) as ia, Image.open(b) as ib:
        if abs(ia.width / ia.height - ib.width / ib.height) > 0.05 * ia.width / ia.height:
            return False
        small = [np.asarray(i.convert("L").resize((48, 48), Image.LANCZOS), dtype=float)
                 for i in (ia, ib)]
    return float(np.abs(small[0] - small[1]).mean()) < 12.0


def missing_figures(shown: list[Path], results: Path) -> list[str]:
    """Names of the PNGs in ``results`` that none of the ``shown`` image files is."""
    if not results.is_dir():
        return []
    shown = [p for p in shown if p.suffix.lower() == ".png" and p.exists()]
    hashes = {_sha256(p) for p in shown}
    missing = []
    for png in sorted(results.glob("*.png")):
        if _sha256(png) in hashes or any(_looks_alike(png, s) for s in shown):
            continue
        missing.append(png.name)
    return missing


def _context(text: str, match: re.Match[str], width: int = 40) -> str:
    start, end = max(0, match.start() - width), min(len(text), match.end() + width)
    return text[start:end].replace("\n", " ").strip()


def _counted(findings: list[str]) -> list[str]:
    """Each distinct finding once, with how many times it occurred."""
    counts: dict[str, int] = {}
    for f in findings:
        counts[f] = counts.get(f, 0) + 1
    return [f if n == 1 else f"{f} (x{n})" for f, n in counts.items()]


def inspect_page(browser: cdp.Chromium, html_dir: Path, page: Path,
                 results: Path | None, screenshots: Path | None) -> PageReport:
    """Open one page, let MathJax and the images finish, and list what a reader would see
    go wrong. ``results``: the page's results folder (its PNGs must all be shown)."""
    report = PageReport(str(page.relative_to(html_dir)))
    browser.remote_requests.clear()
    browser.open(page.resolve().as_uri())
    seen: dict[str, Any] = browser.evaluate(_INSPECT, timeout=60)
    report.column_px = seen["column"]
    found = report.findings
    if seen["mathjax"] == "not loaded":
        found.append("MathJax did not load")
    for chunk in seen["prose"]:
        if m := _RAW_TEX.search(chunk):  # one finding per piece of text
            found.append(f"raw TeX: ...{_context(chunk, m)}...")
    for chunk in seen["blocks"]:
        for kind, pattern in (("doubled word", _DOUBLED), ("None/nan in the text", _MISSING)):
            if m := pattern.search(chunk):
                found.append(f"{kind}: ...{_context(chunk, m)}...")
    for table in seen["tables"]:
        found += table_findings(table)
    found += [f"output after the summary: {o}" for o in seen["afterSummary"]]
    for chunk in seen["text"]:
        for kind, pattern in (("Python repr", _REPR), ("absolute path", _ABSOLUTE_PATH)):
            if m := pattern.search(chunk):
                found.append(f"{kind}: ...{_context(chunk, m)}...")
    files = []
    for image in seen["images"]:
        if image["natural"] == 0:
            found.append(f"broken image: {image['src']}")
        elif not re.match(r"^(\w+:|//)", image["src"]):
            files.append((page.parent / image["src"].split("?")[0]).resolve())
    if results is not None:
        for name in missing_figures(files, results):
            found.append(f"figure not shown: {name} (in {results.name}/)")
        found += results_figure_findings(results)
    found += [f"overflow: {o}" for o in seen["overflow"]]
    found += [f"loads from the network: {url}" for url in browser.remote_requests]
    report.findings = _counted(found)
    if screenshots is not None:
        name = report.page.replace("/", "__").removesuffix(".html") + ".png"
        report.screenshot = browser.screenshot(screenshots / name)
    return report


def book_pages(html_dir: Path) -> list[Path]:
    """Every page of a built book (not its search and index pages, redirects or assets)."""
    redirect = re.compile(r"<meta[^>]+http-equiv=.?refresh", re.IGNORECASE)
    return sorted(p for p in html_dir.rglob("*.html")
                  if p.name not in NOT_PAGES
                  and not p.relative_to(html_dir).parts[0].startswith("_")
                  and not redirect.search(p.read_text(errors="replace")[:2000]))


def screenshots_dir() -> Path:
    return Path(os.environ.get("EMO_SCREENSHOTS", ROOT / "_build" / "screenshots"))


@pytest.fixture(scope="session")
def chromium():
    executable = cdp.find_chromium()
    if executable is None:
        message = ("headless Chromium not found, so the book is not checked in a browser. "
                   "To enable: install it (Debian/Ubuntu: `apt-get install chromium`; .ci/run "
                   "does this) or set EMO_CHROMIUM to a Chrome/Chromium executable.")
        if os.environ.get("EMO_REQUIRE_BROWSER"):  # CI: a browser test that skips is no test
            pytest.fail(message)
        pytest.skip(message)
    with cdp.Chromium(executable, *WINDOW) as browser:
        yield browser


# --------------------------------------------------------------------------- the checks, checked

def _png(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (60, 40)) -> Path:
    from PIL import Image

    Image.new("RGB", size, colour).save(path)
    return path


def _site(tmp_path: Path, body: str, head: str = "") -> Path:
    page = tmp_path / "html" / "executed" / "nb.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(f"<!doctype html><html><head><meta charset='utf-8'>{head}</head><body>"
                    "<main><article class='bd-article' style='width: 600px; padding: 0 20px'>"
                    f"{body}</article></main></body></html>")
    return page


def test_a_clean_page_has_no_findings(chromium, tmp_path):
    results = tmp_path / "results" / "nb"
    results.mkdir(parents=True)
    shown = _png(results / "fig.png", (200, 30, 30))
    (tmp_path / "html" / "_images").mkdir(parents=True)
    (tmp_path / "html" / "_images" / "abc.png").write_bytes(shown.read_bytes())
    page = _site(tmp_path, "<h1>Table 4</h1><p>Macro F1 rose by 30 %; see "
                 "<code>\\frac{a}{b}</code> and <a href='https://doi.org/10.1/x'>the paper</a>."
                 "</p><pre>label = '$N_{min}$'  # code is not math</pre>"
                 "<div class='highlight'><pre style='overflow-x: auto'>export CAFE_ROOT=/data/CAFE"
                 "  # an example in the prose, long enough to scroll sideways in its box ......."
                 "......................................................................</pre>"
                 "</div>"
                 "<img src='../_images/abc.png'><p>Results in <code>results/nb/</code>.</p>")
    report = inspect_page(chromium, tmp_path / "html", page, results, tmp_path / "shots")
    assert report.findings == []
    assert report.screenshot.exists() and report.screenshot.stat().st_size > 1000
    assert report.column_px == 600


def test_each_defect_is_found(chromium, tmp_path):
    results = tmp_path / "results" / "nb"
    results.mkdir(parents=True)
    _png(results / "never_shown.png", (10, 200, 10))
    (results / "never_shown.figure.json").write_text(json.dumps({
        "series": [{"label": "this run", "kind": "line", "points": 1, "marker": "o"}],
        "legends": [{"title": "", "entries": [{"label": "focal_loss", "points": 1}]}],
        "promises": [{"label": "paper", "marker": "x"}]}))
    page = _site(
        tmp_path,
        "<p>Classes below \\(N_{min}\\) are over-sampled.</p>"
        "<img src='../_images/missing.png'>"
        "<div class='cell_output'><pre>&lt;Figure size 640x480 with 1 Axes&gt;</pre></div>"
        "<p>results written to /work/main/results/nb/results.json</p>"
        "<div style='width: 900px'>a wide table</div>"
        "<div style='overflow-x: auto'><div style='width: 2000px'>scrolls</div></div>"
        "<p>See <a href='#'>The</a> the claims ledger; margin +/-None, rho nan.</p>"
        "<table><thead><tr><th>tost_p</th><th>difference</th></tr></thead><tbody>"
        "<tr><td>0.010</td><td>0.123</td></tr><tr><td>None</td><td>-3.7e-05</td></tr>"
        "<tr><td>0.500</td><td>0.456</td></tr></tbody></table>"
        "<section id='summary'><h2>Summary</h2><p>It held.</p>"
        "<div class='cell_output'><pre>a table printed late</pre></div>"
        "<div class='cell_output'><p>Provenance: commit abc</p><p>Result files: a.csv</p>"
        "<div class='admonition'><p>Re-run this page</p></div></div>"
        "<div class='cell_output'><div class='admonition'><p>Re-run this page</p></div></div>"
        "</section>",
        head="<script src='https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js'>"
             "</script>")
    found = inspect_page(chromium, tmp_path / "html", page, results, None).findings
    kinds = sorted({f.split(":")[0] for f in found})
    assert kinds == ["MathJax did not load", "None/nan in a table", "None/nan in the text",
                     "Python repr", "absolute path", "broken image", "doubled word",
                     "figure not shown", "figure promise not drawn",
                     "identifier in a figure legend", "identifier in a table header",
                     "loads from the network", "output after the summary", "overflow", "raw TeX",
                     "scientific notation in a fixed-decimal column"], found
    assert any("-3.7e-05" in f for f in found) and any("'tost_p'" in f for f in found)
    assert any("a table printed late" in f for f in found)
    assert not any("Provenance" in f for f in found)
    assert any("\\(N_{min}\\)" in f for f in found)
    assert any("never_shown.png" in f for f in found)
    assert sum(f.startswith("overflow") for f in found) == 2, found
    assert any("cdn.jsdelivr.net" in f for f in found)


def _figure_sidecar(tmp_path: Path, monkeypatch, draw, promises=(), name: str = "fig") -> Path:
    """Draw a figure with ``draw(ax)`` and save it through ``Run.figure`` (PNG and sidecar);
    returns the page's results folder."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from emo_lib.book.report import Run

    monkeypatch.setenv("EMO_RESULTS", str(tmp_path / "results"))
    with matplotlib.rc_context():
        fig, ax = plt.subplots()
        draw(ax)
        Run("nb", params={"device": "cpu"}).figure(fig, name, display=False, promises=promises)
        plt.close("all")
    return tmp_path / "results" / "nb"


def _paper_and_run(ax, paper_y=(0.58, 0.80), label="this run"):
    ax.plot([1, 2], [0.41, 0.82], "o-", label=label)
    ax.scatter([1, 2], paper_y, marker="x", color="k", label="paper")
    ax.legend()


def test_a_figure_that_keeps_its_promises_has_no_findings(tmp_path, monkeypatch):
    results = _figure_sidecar(tmp_path, monkeypatch, _paper_and_run,
                              promises=["this run", {"label": "paper", "marker": "x"}])
    assert (results / "fig.figure.json").exists() and (results / "fig.png").exists()
    assert results_figure_findings(results) == []


@pytest.mark.parametrize("draw, promises, expected", [
    # the caption promises the paper's points as crosses: none drawn
    (lambda ax: (ax.plot([1, 2], [0.4, 0.8], "o-", label="this run"), ax.legend()),
     [{"label": "paper", "marker": "x"}], "figure promise not drawn: 'paper' with marker 'x'"),
    # drawn, but every point is NaN (a single point per panel, or none)
    (lambda ax: _paper_and_run(ax, paper_y=(float("nan"), float("nan"))), ["paper"],
     "figure promise not drawn: 'paper'"),
    # drawn with another marker than the caption says
    (lambda ax: (ax.scatter([1], [1], marker="o", label="paper"), ax.legend()),
     [{"label": "paper", "marker": "x"}], "figure promise not drawn: 'paper' with marker 'x'"),
    # a legend that shows keys, not names
    (lambda ax: _paper_and_run(ax, label="random_crop"), [],
     "identifier in a figure legend: 'random_crop'"),
])
def test_each_figure_defect_is_found_from_what_was_drawn(tmp_path, monkeypatch, draw, promises,
                                                         expected):
    results = _figure_sidecar(tmp_path, monkeypatch, draw, promises)
    found = results_figure_findings(results)
    assert len(found) == 1 and found[0].startswith(expected) and "(in fig.png" in found[0], found


def test_a_seaborn_hue_legend_keeps_its_promise_through_the_colours_drawn(tmp_path, monkeypatch):
    """seaborn draws a whole hue in one scatter and builds its legend from proxies: the
    promise is kept by the points of the proxy's colour and marker."""
    import pandas as pd
    import seaborn as sns

    frame = pd.DataFrame({"x": [1, 2, 1, 2], "y": [0.4, 0.8, 0.58, 0.8],
                          "source": ["this run", "this run", "paper", "paper"]})

    def draw(ax):
        sns.scatterplot(frame, x="x", y="y", hue="source", style="source",
                        markers={"this run": "o", "paper": "X"}, ax=ax)

    results = _figure_sidecar(tmp_path, monkeypatch, draw,
                              promises=[{"label": "paper", "marker": "X"}, "this run"])
    assert results_figure_findings(results) == []
    results = _figure_sidecar(tmp_path, monkeypatch, draw, name="g",
                              promises=[{"label": "paper", "marker": "s"}])
    assert [f.split(" (")[0] for f in results_figure_findings(results)] == [
        "figure promise not drawn: 'paper' with marker 's'"]


def test_figures_match_by_content_not_by_name(tmp_path):
    red = _png(tmp_path / "a.png", (200, 30, 30))
    same_picture_larger = _png(tmp_path / "b.png", (200, 30, 30), (120, 80))
    other = _png(tmp_path / "c.png", (30, 30, 200))
    results = tmp_path / "results"
    results.mkdir()
    _png(results / "fig.png", (200, 30, 30))
    assert missing_figures([red], results) == []
    assert missing_figures([same_picture_larger], results) == []
    assert missing_figures([other], results) == ["fig.png"]


# --------------------------------------------------------------------------- the book

@pytest.mark.slow
def test_built_book_reads_cleanly_in_a_browser(chromium, request):
    book = request.getfixturevalue("built_book")  # built only when Chromium is there
    shots = screenshots_dir()
    reports = []
    for page in book_pages(book.html):
        rel = page.relative_to(book.html)
        results = (book.results / page.stem
                   if rel.parts[0] == "executed" else None)
        reports.append(inspect_page(chromium, book.html, page, results, shots))
    assert len(reports) >= 20, [r.page for r in reports]
    bad = [r for r in reports if r.findings]
    message = "\n".join(f"{r.page}:\n  - " + "\n  - ".join(r.findings) for r in bad)
    assert not bad, (f"{sum(len(r.findings) for r in bad)} finding(s) on {len(bad)} of "
                     f"{len(reports)} pages (screenshots in {shots}):\n{message}")
