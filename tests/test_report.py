"""What a page shows through ``Run``: the banner, tables and figures formatted for reading, the
parameters table, the provenance line and download links; and the results record."""
import hashlib
import json
import math
import re
import subprocess
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from emo_lib.book import pagestyle  # noqa: E402
from emo_lib.data import make_manifest  # noqa: E402
from emo_lib.book.report import (Run, downloads_line, parameters_table, provenance_line,  # noqa: E402
                            provenance_text)
from emo_lib.layout import REPO_ROOT  # noqa: E402


def _manifest(synthetic: bool):
    frame = pd.DataFrame({"path": ["a.png"], "label": ["happy"], "gender": ["male"],
                          "age_group": ["child"], "subject_id": ["1"], "dataset": ["x"]})
    return make_manifest(frame, name="synthetic:cafe_like" if synthetic else "cafe",
                         synthetic=synthetic, root="/data/cafe")


@pytest.fixture(autouse=True)
def _keep_rcparams():
    """Run applies the project's figure style globally; each test starts from the default."""
    with matplotlib.rc_context():
        yield
    plt.close("all")


@pytest.fixture
def shown(monkeypatch):
    """Everything Run displays, in order: (kind, payload)."""
    import IPython.display

    items: list = []

    def display(obj, raw=False, **_):
        if raw:
            items.append(("bundle", obj))
        elif isinstance(obj, IPython.display.Markdown):
            items.append(("markdown", obj.data))
        elif isinstance(obj, IPython.display.Image):
            items.append(("image", obj))
        else:
            items.append(("other", obj))

    monkeypatch.setattr(IPython.display, "display", display)
    return items


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setenv("EMO_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("EMO_BOOK_ROOT", str(tmp_path))
    return tmp_path / "results"


def _html(items, kind="bundle"):
    # glue records (myst_nb) are raw bundles too, when myst_nb is first imported under the patch
    return [obj["text/html"] for k, obj in items if k == kind and "text/html" in obj]


# --------------------------------------------------------------------------- banner, record

def test_synthetic_banner_says_so_and_never_claims_the_paper():
    text = provenance_text([_manifest(True)], "cpu")
    assert "synthetic data, not the papers' data" in text and ":class: warning" in text
    assert "never as a reproduction" in text


def test_real_banner_names_the_data_but_not_the_local_folder():
    text = provenance_text([_manifest(False)], "cuda")
    assert "Built from the real data" in text and "**cafe**" in text and "cuda" in text
    assert "/data/cafe" not in text


def test_run_records_results(results, shown):
    run = Run("nb", params={"seed": 1, "device": "cpu"})
    run.banner(_manifest(True))
    run.glue("answer", 42)
    run.table(pd.DataFrame({"a": [1.23456]}), "t", display=False)
    record = json.loads(run.finish().read_text())
    assert record["synthetic"] and record["values"] == {"answer": 42}
    assert record["params"]["seed"] == 1 and record["device"].startswith("cpu")
    assert record["datasets"][0]["root"] == "/data/cafe"  # the record keeps the folder
    assert record["files"] == ["t.csv", "results.json"]
    assert (results / "nb" / "t.csv").exists()


def test_results_record_the_key_of_the_execution_that_wrote_them(results, shown, monkeypatch):
    """The runner gives each kernel its execution's key ($EMO_PAGE_KEY); results.json records
    it, so results another build wrote are recognised (emo_lib.pagekey)."""
    monkeypatch.delenv("EMO_PAGE_KEY", raising=False)
    assert json.loads(Run("nb").finish().read_text())["page_key"] is None   # outside a build
    monkeypatch.setenv("EMO_PAGE_KEY", "k" * 64)
    assert json.loads(Run("nb").finish().read_text())["page_key"] == "k" * 64


def _write_notebook(root: Path, source: str) -> None:
    import nbformat
    (root / "notebooks").mkdir(exist_ok=True)
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["parameters"]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {"name": "emo-lib", "display_name": "emo-lib", "language": "python"}
    nbformat.write(nb, root / "notebooks" / "nb.ipynb")


def test_run_records_every_declared_parameter(tmp_path, results, shown):
    _write_notebook(tmp_path, "seed = 3\nsize = 32  # pixels")
    run = Run.from_parameters("nb", {"seed": 7, "size": 32, "other": 1})
    assert run.params == {"seed": 7, "size": 32}
    record = json.loads(run.finish().read_text())
    assert record["defaults"] == {"seed": "3", "size": "32"}


# --------------------------------------------------------------------------- parameters table

def test_parameters_table_marks_what_differs_from_the_default_in_yaml_notation():
    table = parameters_table(
        {"dataset": "synthetic:cafe_like", "root": "", "scale": 0.05, "models": ["b0"],
         "patience": None, "seed": 0, "options": {}, "method": {"method": "slic", "n": 3},
         "text": "1e-4", "flag": False},
        {"dataset": '"synthetic:cafe_like"', "root": '""', "scale": "0.02",
         "models": '["b0", "b1"]', "patience": "None", "seed": "0", "options": "{}",
         "method": "{}", "text": '"1e-4"', "flag": "False"})
    assert table.to_dict("list") == {
        "parameter": ["dataset", "root", "scale", "models", "patience", "seed", "options",
                      "method", "text", "flag"],
        "value": ["synthetic:cafe_like", '""', "0.05", "[b0]", "null", "0", "{}",
                  "{method: slic, n: 3}", "'1e-4'", "false"],
        "default": ["synthetic:cafe_like", '""', "0.02", "[b0, b1]", "null", "0", "{}", "{}",
                    "'1e-4'", "false"],
        "changed": ["", "", "yes", "yes", "", "", "", "yes", "", ""]}
    # every value reads back as -p KEY=VALUE would read it: the table shows what to type
    from emo_lib.notebook_parameters import read_yaml

    assert [read_yaml(v) for v in table["value"]] == [
        "synthetic:cafe_like", "", 0.05, ["b0"], None, 0, {}, {"method": "slic", "n": 3},
        "1e-4", False]


def test_parameters_table_shows_no_local_folder():
    table = parameters_table({"cafe_root": "/home/me/data/CAFE"}, {"cafe_root": '""'})
    assert table.loc[0, "value"] == "…/CAFE" and table.loc[0, "changed"] == "yes"


def test_from_parameters_shows_the_parameters_of_this_run(tmp_path, results, shown):
    _write_notebook(tmp_path, "seed = 3\nsize = 32  # pixels\nname = 'a'")
    Run.from_parameters("nb", {"seed": 7, "size": 32, "name": "a"})
    [html] = _html(shown)
    assert "<details" in html and "Parameters of this run" in html
    assert "1 changed from the notebook's defaults (seed)" in html
    # two columns, name and value; a changed value marked, its default beside it; the same
    # fixed layout on every page (the book's stylesheet styles the class)
    assert '<table class="emo-parameters">' in html and "<th>parameter</th><th>value</th>" in html
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)
    cells = [[re.sub(r"<[^>]+>", "", c).strip()
              for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)] for r in rows[1:]]
    assert cells == [["seed", "7 changed; default 3"], ["size", "32"], ["name", "a"]]
    assert html.count('class="emo-changed"') == 1
    Run.from_parameters("nb", {"seed": 3, "size": 32, "name": "a"}, display=False)
    assert len(shown) == 1


# --------------------------------------------------------------------------- tables

def test_table_shows_no_integer_index_and_no_empty_header_rows(results, shown):
    run = Run("nb", params={"device": "cpu"})
    run.table(pd.DataFrame({"class": ["angry", "fear"], "n": [112, 84]}), "plain")
    indexed = pd.DataFrame({"dataset": ["CAFE", "CAFE"], "class": ["angry", "fear"],
                            "accuracy": [0.4554, 0.2381]}).set_index(["dataset", "class"])
    indexed.columns.name = "metric"
    run.table(indexed, "indexed")
    plain, multi = _html(shown)
    for html in (plain, multi):
        head = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
        assert head.count("<tr>") == 1, "an extra header row (index or column-axis name)"
        assert "<th" not in re.search(r"<tbody>(.*?)</tbody>", html, re.S).group(1), \
            "an index column"
    assert re.findall(r"<th[^>]*>([^<]*)</th>", plain) == ["class", "n"]
    assert re.findall(r"<th[^>]*>([^<]*)</th>", multi) == ["dataset", "class", "accuracy"]
    assert re.findall(r"<td[^>]*>([^<]*)</td>", plain) == ["angry", "112", "fear", "84"]


def test_table_keeps_long_text_whole_and_escaped(results, shown):
    claim = "EfficientNet-B0 beats VGG-16 and ResNet-50 " * 6 + "(p < 0.05 & more)"
    Run("nb", params={"device": "cpu"}).table(pd.DataFrame({"claim": [claim]}), "claims")
    [html] = _html(shown)
    assert claim.replace("&", "&amp;").replace("<", "&lt;") in html and "..." not in html


def test_table_rounds_on_the_page_and_keeps_full_precision_in_the_csv(results, shown):
    frame = pd.DataFrame({"accuracy": [0.45544, 0.5], "p_value": [0.00001, 0.38321],
                          "n": [112, 84]}, index=pd.Index(["angry", "fear"], name="class"))
    Run("nb", params={"device": "cpu"}).table(frame, "t")
    [html] = _html(shown)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", html)
    assert cells == ["angry", "0.455", "&lt; 0.001", "112", "fear", "0.500", "0.38", "84"]
    back = pd.read_csv(results / "nb" / "t.csv", index_col=0)
    assert back.loc["angry", "accuracy"] == 0.45544 and back.loc["angry", "p_value"] == 1e-5


def test_table_is_not_shown_twice(results, shown):
    from IPython.core.formatters import DisplayFormatter

    frame = Run("nb", params={"device": "cpu"}).table(pd.DataFrame({"a": [1, 2]}), "t")
    assert len(shown) == 1
    assert DisplayFormatter().format(frame) == ({}, {}), "a cell ending in run.table shows it again"
    assert isinstance(frame, pd.DataFrame) and frame["a"].sum() == 3
    derived = frame.assign(b=1)
    assert type(derived) is pd.DataFrame and DisplayFormatter().format(derived)[0]


@pytest.mark.parametrize("name,is_p", [
    ("p", True), ("p_value", True), ("P-value", True), ("McNemar p-value", True),
    ("fisher_p", True), ("exact p value", True), (("test", "p"), True), ("p (two-sided)", False),
    ("pred", False), ("paper", False), ("top_k", False), ("group", False), ("ap", False)])
def test_p_value_columns_are_recognised_by_name(name, is_p):
    assert pagestyle.is_p_value_column(name) is is_p


@pytest.mark.parametrize("p,text", [(0.0, "< 0.001"), (0.000999, "< 0.001"), (0.001, "0.0010"),
                                    (0.012345, "0.012"), (0.38321, "0.38"), (1.0, "1.0"),
                                    (0.0496, "0.0496"), (float("nan"), "–")])
def test_p_values_in_tables_as_in_prose(p, text):
    from emo_lib.formatting import format_p

    assert pagestyle.format_p_value(p) == text
    assert text == "–" or format_p(p) == text     # one formatter for tables and prose


@pytest.mark.parametrize("x,integral,small,text", [
    (0.45544, False, False, "0.455"), (1.0, False, False, "1.000"), (224.0, True, False, "224"),
    (0.0001, False, False, "0.000"), (-0.0004, False, False, "0.000"),
    (-0.000171, False, False, "0.000"), (-3.7e-05, False, False, "0.000"),
    (0.0001, False, True, "0.0001"), (-0.0004, False, True, "-0.0004"),
    (-1e-9, False, True, "-0.000000001"), (np.float32(0.25), False, False, "0.250"),
    (np.int64(7), False, False, "7"), (float("nan"), False, False, "–"),
    (None, False, False, "–"), (True, False, False, "True"), (-0.0, False, False, "0.000"),
    (float("inf"), False, False, "∞")])
def test_numbers_to_fixed_decimals_never_scientific(x, integral, small, text):
    assert pagestyle.format_number(x, 3, integral, small) == text


def test_a_column_of_tiny_values_keeps_significant_digits_a_mixed_column_does_not():
    frame = pd.DataFrame({"lr": [0.0001, 0.00003], "difference": [-0.000171, 0.412]})
    cells = pagestyle.formatted_cells(frame)
    assert cells["lr"].tolist() == ["0.0001", "0.00003"]
    assert cells["difference"].tolist() == ["0.000", "0.412"]   # no "-0.000171", no "e-05"


def test_whole_numbers_show_as_integers_by_column_or_row():
    settings = pd.DataFrame({"paper": [224.0, 10.0, 0.0001], "this run": [32.0, np.nan, 0.001],
                             "difference": [-192.0, np.nan, 0.0009]},
                            index=["image size", "patience", "learning rate"])
    cells = pagestyle.formatted_cells(pagestyle.display_frame(settings), precision=4)
    assert cells.values.tolist() == [["image size", "224", "32", "-192"],
                                     ["patience", "10", "–", "–"],
                                     ["learning rate", "0.0001", "0.0010", "0.0009"]]
    accuracies = pd.DataFrame({"paper": [1.0, 0.553], "this run": [1.0, 0.455]})
    assert pagestyle.formatted_cells(accuracies).values.tolist() == [
        ["1.000", "1.000"], ["0.553", "0.455"]]
    counts = pd.DataFrame({"n": [3.0, np.nan, 5.0]})
    assert pagestyle.formatted_cells(counts)["n"].tolist() == ["3", "–", "5"]


# --------------------------------------------------------------------------- figures

def _rendered_points(fig, png: Path, shown_width: int):
    """Each text's size in points as the page shows it: the PNG (saved at FIGURE_DPI) is
    drawn ``shown_width`` CSS pixels wide, and 1 pt = 96/72 CSS pixels."""
    from PIL import Image

    with Image.open(png) as im:
        css_px_per_image_px = shown_width / im.width
    return [t.get_fontsize() * pagestyle.FIGURE_DPI / 72 * css_px_per_image_px * 72 / 96
            for t in pagestyle._texts(fig)]


@pytest.mark.parametrize("size,legend_pt", [((15.1, 4.0), 6), ((6.0, 3.0), 10), ((10.8, 3.6), 7)])
def test_figure_text_is_at_least_9_points_at_page_width(results, shown, size, legend_pt):
    run = Run("nb", params={"device": "cpu"})
    fig, axes = plt.subplots(1, 2, figsize=size)
    for ax in axes:
        ax.bar(range(8), np.arange(8), label="counts")
        ax.set(xlabel="class (most to least frequent)", ylabel="training items", title="t")
        ax.legend(fontsize=legend_pt)
        ax.tick_params(labelsize=6)
    path = run.figure(fig, "f")
    [(kind, image)] = shown
    width = image.metadata["width"] if image.metadata else image.width
    assert width <= pagestyle.CONTENT_COLUMN_PX
    assert image.data == path.read_bytes(), "the page shows the saved file itself"
    sizes = _rendered_points(fig, path, width)
    assert sizes and min(sizes) >= 9 - 1e-6, min(sizes)


def test_a_narrowed_figure_is_laid_out_again(results, shown):
    """A figure laid out by tight_layout at 11 inches, narrowed to the column: its panels'
    labels must not run into each other."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4))
    axes = fig.subplots(1, 2)
    for ax in axes:
        ax.bar(range(8), np.arange(8))
        ax.set(ylabel="number of correct answers", xlabel="class")
    fig.tight_layout()
    Run("nb", params={"device": "cpu"}).figure(fig, "f")
    left, right = (ax.get_tightbbox() for ax in axes)
    assert left.x1 <= right.x0, "the right panel's label overlaps the left panel"


def test_small_figures_are_not_enlarged(results, shown):
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1])
    path = Run("nb", params={"device": "cpu"}).figure(fig, "small")
    from PIL import Image
    with Image.open(path) as im:
        assert math.isclose(im.width / pagestyle.FIGURE_DPI, 4, rel_tol=0.15)
    assert tuple(fig.get_size_inches()) == (4, 3)


def test_run_applies_the_project_style(results):
    matplotlib.rcParams["font.size"] = 5
    Run("nb", params={"device": "cpu"})
    assert matplotlib.rcParams["font.size"] == pagestyle.FIGURE_STYLE["font.size"]
    assert matplotlib.rcParams["savefig.dpi"] == pagestyle.FIGURE_DPI


def test_figure_and_finish_return_paths_that_do_not_display(results, shown, capsys):
    from IPython.core.formatters import DisplayFormatter

    run = Run("nb", params={"device": "cpu"})
    fig, ax = plt.subplots()
    figure_path = run.figure(fig, "f")
    record_path = run.finish()
    assert capsys.readouterr().out == "", "finish prints nothing (no absolute path)"
    for path in (figure_path, record_path):
        assert path.exists() and isinstance(path, Path)
        assert DisplayFormatter().format(path) == ({}, {})
    [text] = [obj for kind, obj in shown if kind == "markdown"]
    assert str(results) not in text and "PosixPath" not in text and "/tmp" not in text


# --------------------------------------------------------------------------- provenance

def test_finish_ends_the_page_with_provenance_and_downloads(results, shown, monkeypatch):
    monkeypatch.setenv("EMO_PROFILE", "smoke")
    run = Run("nb", params={"device": "cpu", "seed": 5})
    run.table(pd.DataFrame({"a": [1]}), "t", display=False)
    fig, ax = plt.subplots()
    run.figure(fig, "f", display=False)
    record = json.loads(run.finish().read_text())
    prov = record["provenance"]
    lock = hashlib.sha256((REPO_ROOT / "requirements-lock.txt").read_bytes()).hexdigest()[:12]
    assert prov["lock_sha256"] == lock
    assert prov["profile"] == "smoke" and prov["seed"] == 5
    assert prov["device"].startswith("cpu") and prov["seconds"] >= 0
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", prov["date"])
    git = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "--short=12", "HEAD"],
                         capture_output=True, text=True)
    if git.returncode == 0:
        assert prov["commit"] == git.stdout.strip() and prov["dirty"] in (True, False)
    [(kind, text)] = shown
    assert kind == "markdown"
    assert f"lock file `{lock}`" in text and "profile `smoke`" in text and "seed 5" in text
    assert prov["date"] in text and "device cpu" in text
    # the machine's arithmetic: CPU capability and threads, torch's and numpy's BLAS
    import torch

    machine = prov["machine"]
    assert machine["cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    assert machine["threads"] == torch.get_num_threads() and machine["gpu"] is None
    threads = torch.get_num_threads()
    assert f"device cpu ({machine['cpu_capability']}, {threads} thread" in text
    assert f"BLAS {machine['blas']} (numpy: {machine['numpy_blas']})" in text
    assert ("{download}`t.csv </results/nb/t.csv>` · {download}`f.png </results/nb/f.png>` · "
            "{download}`results.json </results/nb/results.json>`") in text


def test_profile_is_none_when_the_runner_sets_none(results, shown, monkeypatch):
    monkeypatch.delenv("EMO_PROFILE", raising=False)
    record = json.loads(Run("nb", params={"device": "cpu"}).finish().read_text())
    assert record["provenance"]["profile"] == "none" and record["provenance"]["seed"] is None


def test_provenance_line_says_when_the_tree_was_dirty():
    prov = {"commit": "abc123", "dirty": True, "lock_sha256": "0123456789ab", "profile": "paper",
            "device": "cuda (H100)", "seed": 0, "date": "2026-01-05 10:32 UTC", "seconds": 84.4}
    assert provenance_line(prov) == (
        "**Provenance:** commit `abc123` with uncommitted changes · lock file `0123456789ab` · "
        "profile `paper` · device cuda (H100) · seed 0 · 2026-01-05 10:32 UTC · 84 s")
    assert "commit unknown" in provenance_line(prov | {"dirty": None})


def test_provenance_line_names_the_gpu_pin_and_determinism():
    prov = {"commit": "abc123", "dirty": False, "lock_sha256": "0123456789ab",
            "profile": "paper", "device": "cuda (NVIDIA H100 80GB HBM3, compute 9.0)",
            "seed": 0, "date": "2026-01-05 10:32 UTC", "seconds": 84.4,
            "machine": {"cpu_capability": "AVX2", "pin_cpu": "avx2", "blas": "MKL 2024.2",
                        "numpy_blas": "OpenBLAS 0.3.31 (Haswell)", "threads": 1,
                        "gpu": {"name": "NVIDIA H100 80GB HBM3", "capability": "9.0"},
                        "deterministic": False}}
    line = provenance_line(prov)
    assert ("device cuda (NVIDIA H100 80GB HBM3, compute 9.0) · BLAS MKL 2024.2 (numpy: "
            "OpenBLAS 0.3.31 (Haswell)) · CPU pinned to avx2 (AVX2) · host CPU AVX2, 1 thread · "
            "not deterministic (cuDNN autotuning") in line
    assert "· deterministic ·" in provenance_line(
        prov | {"machine": prov["machine"] | {"deterministic": True}})


def test_downloads_link_relative_to_the_book_root(tmp_path):
    inside = tmp_path / "results" / "nb" / "a.csv"
    elsewhere = tmp_path.parent / "x.png"
    assert downloads_line([inside, elsewhere], tmp_path) == (
        "**Result files:** {download}`a.csv </results/nb/a.csv>` · `x.png`")
    assert downloads_line([], tmp_path) == ""


def test_table_shows_chosen_columns_and_saves_all(tmp_path, monkeypatch):
    """A wide table fits the page: ``columns`` chooses what is shown, the CSV keeps all."""
    import pandas as pd

    from emo_lib.book.report import Run

    monkeypatch.setenv("EMO_RESULTS", str(tmp_path))
    run = Run("wide_page")
    shown = []
    monkeypatch.setattr("emo_lib.book.report._display_bundle",
                        lambda html, text: shown.append(html))
    frame = pd.DataFrame({"a": [1.0], "b": [2.0], "c": [3.0]})
    run.table(frame, "wide", columns=["a", "c"])
    # every column in the CSV, and no unnamed 0..n-1 index column
    assert list(pd.read_csv(tmp_path / "wide_page" / "wide.csv").columns) == ["a", "b", "c"]
    assert ">a<" in shown[0] and ">c<" in shown[0] and ">b<" not in shown[0]
    with pytest.raises(ValueError, match="columns \\['z'\\] are not in it"):
        run.table(frame, "wide", columns=["z"])


def test_claims_writes_the_ledgers_csv_shows_each_claim_once_and_glues_each_verdict(
        results, shown):
    from emo_lib.verdicts import claims_table, with_paper_verdicts
    mine = claims_table([{"claim": "A is lower.", "verdict": "supported", "evidence": "0.4 vs 0.6"},
                         {"claim": "B is the exception.", "verdict": "contradicted",
                          "evidence": "gap 0.01"}], ["a_lower", "b_exception"])
    own = claims_table([{"claim": "A is lower.", "verdict": "supported", "evidence": "paper"},
                        {"claim": "B is the exception.", "verdict": "supported",
                         "evidence": "paper"}], ["a_lower", "b_exception"])
    run = Run("nb", params={"device": "cpu"})
    run.claims(with_paper_verdicts(mine, own), "**How the verdicts are reached.** rule")
    back = pd.read_csv(results / "nb" / "claims.csv", index_col=0, keep_default_na=False)
    assert list(back.index) == ["a_lower", "b_exception"]
    assert list(back["verdict"]) == ["supported", "contradicted"]
    assert not _html(shown)                        # no table on the page: the claims as text
    markdown = [text for kind, text in shown if kind == "markdown"]
    assert markdown[0].count("**A is lower.**") == 1 and "*contradicted*" in markdown[0]
    assert markdown[1].startswith("**How the verdicts")
    assert run.values["claim_a_lower"] == "supported"
    assert run.values["claim_b_exception"] == "contradicted"


def test_claims_per_seed_write_the_long_table_the_rules_and_show_the_stability(results,
                                                                              shown):
    from emo_lib.verdicts import claims_table

    def table(first, second):
        return claims_table([{"claim": "A is lower.", "verdict": first, "evidence": "e",
                              "value": "0.4 vs 0.6"},
                             {"claim": "B holds.", "verdict": second, "evidence": "f"}],
                            ["a", "b"])

    run = Run("nb", params={"device": "cpu", "seeds": [3, 4]})
    run.claims({3: table("supported", "supported"), 4: table("inconclusive", "supported")},
               "**How the verdicts are reached.**\n\n- Rule.")
    folder = results / "nb"
    back = pd.read_csv(folder / "claims.csv", index_col=0, keep_default_na=False)
    assert list(back["verdict"]) == ["varies", "supported"]
    assert list(back["stability"]) == ["varies: supported 1, inconclusive 1",
                                       "stable: supported in 2 of 2"]
    long = pd.read_csv(folder / "claims_by_seed.csv")
    assert list(long.columns) == ["claim_id", "seed", "verdict", "value", "evidence"]
    assert long["seed"].tolist() == [3, 3, 4, 4]
    assert (folder / "rules.md").read_text().startswith("**How the verdicts")
    markdown = [text for kind, text in shown if kind == "markdown"]
    assert "*varies* (across seeds: supported 1, inconclusive 1)" in markdown[0]
    assert "*supported* (every seed: 2 of 2)" in markdown[0]
    assert markdown[1].startswith("**Across seeds.**")
    [html] = _html(shown)
    assert "seed 3" in html and "seed 4" in html and "claim_id" not in html
    assert run.values["claim_a"] == "varies"
    # one table: one seed (the page's first), stability not measured
    run = Run("nb2", params={"device": "cpu", "seeds": [7]})
    run.claims(table("supported", "supported"), "rules")
    long = pd.read_csv(results / "nb2" / "claims_by_seed.csv")
    assert long["seed"].tolist() == [7, 7]
    back = pd.read_csv(results / "nb2" / "claims.csv", index_col=0, keep_default_na=False)
    assert set(back["stability"]) == {"not measured (one seed)"}


# --------------------------------------------------------------------------- re-run box

def _blocks(markdown: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)\n```", markdown, re.S)


def _parse_back(command: str, page: str, env: dict[str, str]) -> dict:
    """Every parameter ``emo-book`` would run ``page`` with, reading the box's ``command``
    through the CLI's own parser (nothing executed): continuations joined, the shell's words
    split, ``${VAR}`` expanded from ``env`` (this build's), leading ``VAR=...`` placeholders
    dropped (a reader sets their own folder)."""
    import shlex

    from emo_lib.runner import cli
    from emo_lib.runner.parameters import merged_parameters, resolve_parameters

    words = shlex.split(command.replace("\\\n", " "))
    while re.fullmatch(r"\w+=.*", words[0]):
        words.pop(0)
    assert words[0] == ".venv/bin/emo-book", words
    words = [re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], w) for w in words[1:]]
    args = cli.make_parser().parse_args(cli.modernize(words))
    assert args.command == "run" and args.notebook == page
    overrides = cli._overrides(args)
    profile = cli._profile_for(page, args.profile)
    params = resolve_parameters(profile, [page], overrides, check_data=[], context=page)[page]
    return merged_parameters(page, params)


@pytest.mark.parametrize("tag", [
    "a b", "1e-4", {"method": "slic", "n": 3}, [1, "x:y", "it's"], "", True, "$HOME", "null",
    {"nested": {"list": [0.5, None]}}, "#not a comment"])
def test_rerun_command_read_back_by_the_cli_gives_this_builds_parameters(tmp_path, monkeypatch,
                                                                          tag):
    """The box's command, parsed by emo-book's own parser and resolved as `emo-book run`
    resolves it, gives every parameter this build ran the page with: profile values, -p
    overrides of every YAML kind, and a value the profile read from an environment variable
    (written as that variable, never the builder's folder)."""
    from tinybook import make_book

    from emo_lib import runner
    from emo_lib.book.rerun import rerun_markdown
    from emo_lib.notebook_parameters import declared_parameters, yaml_text
    from emo_lib.runner.parameters import merged_parameters
    from emo_lib.runner.rerun import rerun_spec

    make_book(tmp_path / "book", monkeypatch)
    monkeypatch.setenv("EMO_TEST_ROOT", "/somewhere/data/CAFE")
    profile = runner.load_profile("p")
    overrides = runner.parse_overrides(["rate=1e-4", f"tag={yaml_text(tag)}"])
    params = runner.resolve_parameters(profile, ["alpha", "beta"], overrides, check_data=[])
    built = merged_parameters("alpha", params["alpha"])
    assert built["tag"] == tag and built["cafe_root"] == "/somewhere/data/CAFE"
    defaults = {k: s["default"] for k, s in declared_parameters("alpha").items()}
    box = rerun_markdown("alpha", built, defaults, rerun_spec("alpha", profile, overrides))
    command = _blocks(box, "bash")[0]
    assert "/somewhere" not in box, "the builder's folder is not shown"
    assert '-p "cafe_root=${EMO_TEST_ROOT}"' in command
    assert command.startswith("EMO_TEST_ROOT=/path/to/EMO_TEST ")
    assert _parse_back(command, "alpha", dict(__import__("os").environ)) == built


def test_rerun_box_has_the_three_ways(tmp_path, monkeypatch):
    """This build's command, the paper profile's line with the data variables it reads (from
    the profile, not typed), and JupyterLab: the notebook to open and the lines to paste for
    this build's values and the paper profile's."""
    from tinybook import make_book

    from emo_lib import runner
    from emo_lib.book.rerun import TITLE, rerun_markdown
    from emo_lib.notebook_parameters import declared_parameters
    from emo_lib.rerun_spec import RerunSpec
    from emo_lib.runner.parameters import merged_parameters
    from emo_lib.runner.rerun import rerun_spec

    root = make_book(tmp_path / "book", monkeypatch)
    (root / "profiles" / "paper.yml").write_text(
        "name: paper\ndefaults:\n  x: 9\n  cafe_dataset: cafe\n  cafe_root: ${CAFE_ROOT}\n"
        "notebooks:\n  alpha: {rate: 0.25}\n")
    monkeypatch.delenv("CAFE_ROOT", raising=False)
    monkeypatch.setenv("EMO_TEST_ROOT", "/somewhere/CAFE")
    profile = runner.load_profile("p")
    params = runner.resolve_parameters(profile, ["alpha", "beta"], check_data=[])["alpha"]
    built = merged_parameters("alpha", params)
    defaults = {k: s["default"] for k, s in declared_parameters("alpha").items()}
    spec = rerun_spec("alpha", profile)
    assert spec.paper == {"x": 9, "rate": 0.25, "cafe_dataset": "cafe",
                          "cafe_root": "${CAFE_ROOT}"}
    assert spec.paper_variables == ["CAFE_ROOT"]
    box = rerun_markdown("alpha", built, defaults, spec)
    assert box.startswith(f"````{{admonition}} {TITLE}\n:class: dropdown emo-rerun")
    this_build, paper = _blocks(box, "bash")
    assert paper == "CAFE_ROOT=/path/to/CAFE .venv/bin/emo-book run alpha --profile paper"
    assert "`notebooks/alpha.ipynb`" in box and "`make lab`" in box and "`parameters` cell" in box
    mine, theirs = _blocks(box, "python")
    assert mine == 'x = 5\ncafe_root = "/path/to/EMO_TEST"  # your $EMO_TEST_ROOT'
    assert theirs == ('x = 9\nrate = 0.25\ncafe_dataset = "cafe"\n'
                      'cafe_root = "/path/to/CAFE"  # your $CAFE_ROOT')
    # the lines are Python a parameters cell runs
    namespace: dict = {}
    exec(mine + "\n" + theirs, namespace)
    assert namespace["rate"] == 0.25 and namespace["cafe_root"] == "/path/to/CAFE"
    # a page the paper profile sets nothing on says so instead of a paper line
    assert rerun_spec("beta", runner.load_profile("p")).paper == {"x": 9}
    beta = rerun_markdown("beta", {"y": 2, "x": 0}, {"y": "2", "x": "0"},
                          RerunSpec("beta", "p", {}, {}, []))
    assert len(_blocks(beta, "bash")) == 1 and "The paper profile sets nothing on this page" in beta
    # a build with the paper profile does not repeat its line
    paper_spec = rerun_spec("alpha", runner.load_profile("paper"))
    assert paper_spec.templates == {"cafe_root": "${CAFE_ROOT}"}
    box = rerun_markdown("alpha", built, defaults, paper_spec)
    assert len(_blocks(box, "bash")) == 1 and "This build used the paper profile" in box


def test_rerun_box_without_the_runner_and_with_local_folders():
    """A notebook run by hand has no spec: the box writes the values out, a local folder as a
    placeholder (never the builder's path), and still names the paper profile's command."""
    from emo_lib.book.rerun import rerun_markdown

    box = rerun_markdown("nb", {"seed": 0, "root": "/home/me/data/CAFE", "n": 2},
                         {"seed": "0", "root": '""', "n": "1"})
    command = _blocks(box, "bash")[0]
    assert command == ".venv/bin/emo-book run nb -p root=/path/to/CAFE -p n=2"
    assert "/home/me" not in box and "`/path/to/...`: the folder on your machine" in box
    assert _blocks(box, "bash")[1] == ".venv/bin/emo-book run nb --profile paper"
    defaults = rerun_markdown("nb", {"seed": 0}, {"seed": "0"})
    assert _blocks(defaults, "bash")[0] == ".venv/bin/emo-book run nb"
    assert "run all cells (its `parameters` cell holds this build's values)" in defaults


def test_long_commands_break_one_item_a_line():
    from emo_lib.book.rerun import LINE, command

    text = command("jeong2021_model_scaling", {"models": [f"efficientnet_b{i}" for i in range(6)],
                                               "image_size": 224, "lr": 1e-4})
    lines = text.splitlines()
    assert lines[0] == ".venv/bin/emo-book run jeong2021_model_scaling \\"
    assert lines[1].startswith("  -p 'models=[efficientnet_b0, ") and lines[-1] == "  -p lr=0.0001"
    assert all(line.endswith(" \\") for line in lines[:-1]) and len(lines[2]) < LINE


def test_the_runner_hands_the_kernel_its_rerun_spec(tmp_path, monkeypatch):
    """execute() gives the kernel the record's re-run spec as $EMO_RERUN (JSON), the page
    reads it back; a record without one removes a variable left in the caller's environment."""
    import importlib

    import papermill

    from emo_lib.rerun_spec import RERUN_VARIABLE, RerunSpec, current_rerun_spec

    ex = importlib.import_module("emo_lib.runner.execute")

    _write_notebook(tmp_path, "seed = 3")
    monkeypatch.setenv("EMO_BOOK_ROOT", str(tmp_path))
    seen = []
    monkeypatch.setattr(papermill, "execute_notebook",
                        lambda *a, kernel_env=None, **k: seen.append(kernel_env))
    monkeypatch.setattr(ex, "_register_engine", lambda: "x")
    spec = RerunSpec("nb", "smoke", {"root": "${ROOT}"}, {"seed": 1}, ["ROOT"])
    ex.execute("nb", tmp_path / "out" / "nb.ipynb", {}, record={"key": "k",
                                                               "rerun": spec.__dict__})
    monkeypatch.setenv(RERUN_VARIABLE, seen[0][RERUN_VARIABLE])
    assert current_rerun_spec("nb") == spec and current_rerun_spec("other") is None
    ex.execute("nb", tmp_path / "out" / "nb.ipynb", {}, record={"key": "k"})
    assert RERUN_VARIABLE not in seen[1]


def test_empty_markdown_shows_nothing(capsys):
    """An empty Markdown object would render as its Python repr on the page."""
    from emo_lib.book.report import show_markdown

    show_markdown("  \n")
    assert capsys.readouterr().out == ""
