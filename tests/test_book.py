"""The whole book, built once per session with the tiny profile in a copy of the book root
(the ``built_book`` fixture, tests/conftest.py): every notebook runs, the data-set page holds the
reproduced tables, no page loads anything from the network, every executed page ends with its
provenance line and links its result files for download."""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from emo_lib import runner
from emo_lib.book.report import FIGURE_SIDECAR

ROOT = Path(__file__).resolve().parent.parent

#: Tags whose attribute loads a resource when the page is shown (links <a href> do not).
RESOURCE_ATTRIBUTES = {"script": "src", "img": "src", "iframe": "src", "source": "src",
                       "video": "src", "audio": "src", "embed": "src", "object": "data",
                       "link": "href"}
_REMOTE = re.compile(r"^(https?:)?//", re.IGNORECASE)
_CSS_REMOTE = re.compile(r"""(@import\s+(url\()?|url\()\s*['"]?((https?:)?//[^'")\s]+)""",
                         re.IGNORECASE)


class _ResourceLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.remote: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        attr = RESOURCE_ATTRIBUTES.get(tag)
        if attr and _REMOTE.match(values.get(attr) or ""):
            rel = (values.get("rel") or "").lower()
            if tag != "link" or not rel or rel.split()[0] in {
                    "stylesheet", "preload", "modulepreload", "icon", "prefetch", "manifest",
                    "shortcut", "apple-touch-icon"}:
                self.remote.append(f"<{tag} {attr}={values[attr]}>")
        if tag == "style":
            self._in_style = True
        if values.get("style"):
            self.remote += [m.group(3) for m in _CSS_REMOTE.finditer(values["style"])]

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.remote += [m.group(3) for m in _CSS_REMOTE.finditer(data)]


def remote_resources(html_dir: Path) -> dict[str, list[str]]:
    """{file: [remote address, ...]} for every page and stylesheet of a built book that loads
    a script, style, font or image from the network."""
    found: dict[str, list[str]] = {}
    for page in sorted(html_dir.rglob("*.html")):
        parser = _ResourceLinks()
        parser.feed(page.read_text(errors="replace"))
        if parser.remote:
            found[str(page.relative_to(html_dir))] = parser.remote
    for css in sorted(html_dir.rglob("*.css")):
        hits = [m.group(3) for m in _CSS_REMOTE.finditer(css.read_text(errors="replace"))]
        if hits:
            found[str(css.relative_to(html_dir))] = hits
    return found


def test_remote_resources_are_found(tmp_path):
    """The scanner itself: a CDN script, a remote stylesheet and a CSS @import are found;
    links to other sites (<a href>) and local files are not resources."""
    (tmp_path / "_static").mkdir()
    (tmp_path / "page.html").write_text(
        '<html><head><script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex.js"></script>'
        '<link rel="stylesheet" href="//fonts.example.org/a.css">'
        '<link rel="next" href="https://example.org/next.html">'
        '<script src="_static/local.js"></script></head>'
        '<body><a href="https://doi.org/10.1/x">paper</a><img src="_images/a.png"></body></html>')
    (tmp_path / "_static" / "theme.css").write_text(
        "@import url('https://fonts.googleapis.com/css?family=Lato');\n"
        ".x{background:url(\"data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg'/>\")}")
    found = remote_resources(tmp_path)
    assert found == {
        "page.html": ["<script src=https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex.js>",
                      "<link href=//fonts.example.org/a.css>"],
        "_static/theme.css": ["https://fonts.googleapis.com/css?family=Lato"]}


def test_math_is_served_by_the_book_itself():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert "sphinx-mathjax-offline" in config["sphinx"]["extra_extensions"]


@pytest.mark.slow
def test_whole_book_builds_with_tiny_profile(built_book):
    if built_book.log:
        assert "book built" in built_book.log
    html = (built_book.html / "executed" / "datasets_noh2023.html").read_text()
    # Table 1 as reproduced: the paper's total (668) beside this run's, and the banner.
    assert "Table 1" in html and "this run" in html and "difference" in html
    assert len(re.findall(r">\s*668\s*<", html)) >= 2
    assert "synthetic data" in html
    for name in runner.book_notebooks(built_book.root / "_toc.yml"):
        assert (built_book.results / name / "results.json").exists(), f"{name} wrote no results"


@pytest.mark.slow
def test_no_page_loads_a_remote_resource(built_book):
    assert remote_resources(built_book.html) == {}
    mathjax = built_book.html / "_static" / "mathjax" / "tex-chtml.js"
    assert mathjax.exists(), "MathJax was not copied into the book"
    pages_with_math = [p for p in built_book.html.rglob("*.html")
                       if "_static/mathjax/tex-chtml.js" in p.read_text()]
    assert pages_with_math, "no page loads the book's own MathJax"


@pytest.mark.slow
def test_executed_pages_end_with_provenance_and_link_their_results(built_book):
    downloads = built_book.html / "_downloads"
    for name in runner.book_notebooks(built_book.root / "_toc.yml"):
        page = (built_book.html / "executed" / f"{name}.html").read_text()
        assert "Provenance:" in page and "lock file" in page, f"{name}: no provenance line"
        assert "results written to" not in page and "PosixPath(" not in page, name
        linked = re.findall(r'href="[./]*_downloads/(\w+)/([^"]+)"', page)
        assert ("results.json" in {file for _, file in linked}), f"{name}: results.json not linked"
        for folder, file in linked:
            assert (downloads / folder / file).exists(), f"{name}: {file} not in _downloads"
        # what a figure draws, beside its PNG, is read by the browser test: not a result
        made = {p.name for p in (built_book.results / name).iterdir()
                if p.suffix in {".csv", ".png", ".json"} and not p.name.endswith(FIGURE_SIDECAR)}
        unlinked = made - {file for _, file in linked}
        assert not unlinked, f"{name}: unlinked {unlinked}"
        for png in (built_book.results / name).glob("*.png"):
            assert png.with_suffix(FIGURE_SIDECAR).exists(), f"{name}: {png.name} has no sidecar"
        # the re-run box: this build's command, the paper profile's line, JupyterLab
        text = re.sub(r"<[^>]+>", "", page)   # the commands are highlighted, word by word
        assert "Re-run this page" in text and f"emo-book run {name}" in text, name
        assert f"notebooks/{name}.ipynb" in text and "make lab" in text, name


@pytest.mark.slow
def test_tiny_build_verdicts_and_key_values(built_book):
    """What the tiny build computed, not only that it ran: every claims page wrote verdicts in
    the one vocabulary with the paper's own beside; the glued numbers are the ones the pages'
    tables hold; the ledger counts every claim of every page once (a claim two pages test,
    such as paper 2's Table 4 claim, is one claim)."""
    import json

    import pandas as pd

    from emo_lib.verdicts import PAPER_VERDICT, VERDICTS

    def values(page):
        return json.loads((built_book.results / page / "results.json").read_text())["values"]

    pages = runner.book_notebooks(built_book.root / "_toc.yml")
    claim_pages = [p for p in pages if p.startswith(("noh2023_", "jeong2021_"))
                   and p != "jeong2021_transforms"]
    claim_ids: set[tuple[str, str]] = set()
    for page in claim_pages:
        claims = pd.read_csv(built_book.results / page / "claims.csv", index_col=0,
                             keep_default_na=False)
        assert len(claims) and set(claims["verdict"]) <= set(VERDICTS), page
        assert set(claims[PAPER_VERDICT]) <= set(VERDICTS), page
        # the claims contract's columns, the per-seed table and the rules as applied
        assert {"value", "paper_value", "detectable", "tags", "construction",
                "stability"} <= set(claims.columns), page
        for name in ("claims_by_seed.csv", "rules.md"):
            assert (built_book.results / page / name).exists(), (page, name)
        rules = (built_book.results / page / "rules.md").read_text()
        assert not re.search(r"\b(None|nan)\b", rules), (page, rules)
        if page.startswith("noh2023_"):   # a claim with numbers shows them
            testable = claims[claims["verdict"] != "not testable"]
            assert (testable["value"] != "").all(), (page, testable["value"])
        for key, row in claims.iterrows():   # the page glued each verdict it shows
            assert values(page).get(f"claim_{key}", row["verdict"]) == row["verdict"], (page, key)
        claim_ids |= {(page.split("_")[0], str(key)) for key in claims.index}
    n_claims = len(claim_ids)
    assert values("claims_ledger")["n_total"] == n_claims
    assert sum(values("claims_ledger")[f"n_{v.replace(' ', '_')}"] for v in VERDICTS) == n_claims
    # the synthetic presets mirror the papers' tables cell for cell
    assert values("datasets_noh2023")["cafe_used"] == 668
    assert values("datasets_noh2023")["nimh_used"] == 534
    # the overall accuracies in the prose are the ones in the page's own table
    table = pd.read_csv(built_book.results / "noh2023_age_accuracy" / "accuracy_by_class.csv")
    overall = table[table["class"] == "overall"].set_index("dataset")["accuracy"]
    age = values("noh2023_age_accuracy")
    assert age["cafe_overall"] == pytest.approx(overall["CAFE"])
    assert age["nimh_overall"] == pytest.approx(overall["NIMH-ChEFS"])
    status = json.loads((built_book.results / "build_status.json").read_text())
    assert {n["status"] for n in status["notebooks"].values()} <= {"executed", "up to date"}
