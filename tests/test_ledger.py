"""The claims ledger reads every page's claims.csv; a page that did not run shows as such."""
import json

import pandas as pd

from emo_lib import layout
from emo_lib.book import ledger
from emo_lib.verdicts import (CONTRADICTED, INCONCLUSIVE, NOT_TESTABLE, PARTLY_SUPPORTED, SUPPORTED,
                             claims_table, with_paper_verdicts)


def _page(root, name, rows, synthetic=True, key=None):
    folder = root / name
    folder.mkdir(parents=True)
    mine = claims_table([{"claim": c, "verdict": v, "evidence": f"run {c}"} for c, v, _ in rows],
                        [f"id{i}" for i in range(len(rows))])
    own = claims_table([{"claim": c, "verdict": p, "evidence": f"paper {c}"} for c, _, p in rows],
                       [f"id{i}" for i in range(len(rows))])
    with_paper_verdicts(mine, own).to_csv(folder / "claims.csv")
    (folder / "results.json").write_text(json.dumps({"synthetic": synthetic, "page_key": key,
                                                     "device": "cpu (2 threads)"}))


def _copy(root, name, key):
    """The executed copy of ``name`` in book root ``root``, recording its execution's key."""
    (root / "executed").mkdir(exist_ok=True)
    (root / "executed" / f"{name}.ipynb").write_text(
        json.dumps({"cells": [], "metadata": {"emo_book": {"key": key, "status": "ok"}}}))


def test_ledger_lists_every_claim_and_every_missing_page(tmp_path):
    _page(tmp_path, "noh2023_age_accuracy", [("a", SUPPORTED, SUPPORTED),
                                             ("b", CONTRADICTED, SUPPORTED)])
    _page(tmp_path, "jeong2021_balanced_augmentation", [("c", NOT_TESTABLE, SUPPORTED)],
          synthetic=False)
    (tmp_path / "datasets_noh2023").mkdir()
    (tmp_path / "datasets_noh2023" / "results.json").write_text("{}")
    names = ["datasets_noh2023", "noh2023_age_accuracy", "noh2023_lime_age",
             "jeong2021_balanced_augmentation"]
    status = ledger.page_statuses(names, tmp_path, {"notebooks": {
        "noh2023_lime_age": {"status": ledger.FAILED}}})
    pages = [ledger.read_page(n, tmp_path, status[n]) for n in names]
    table = ledger.build_ledger(pages)
    assert table["page"].tolist() == ["noh2023_age_accuracy", "noh2023_age_accuracy",
                                      "noh2023_lime_age", "jeong2021_balanced_augmentation"]
    missing = table[table["page"] == "noh2023_lime_age"].iloc[0]
    assert missing["page status"] == "failed" and "not known" in missing["claim"]
    first = table.iloc[0]
    assert first["paper's evidence"] == "paper a" and first["this run's evidence"] == "run a"
    assert first["data"] == "synthetic, cpu (2 threads)"
    assert table.iloc[3]["data"].startswith("real")
    counts = ledger.ledger_counts(table)
    assert counts["total"] == 3 and counts[SUPPORTED] == 1 and counts[CONTRADICTED] == 1
    assert counts["pages_missing"] == 1
    # agreement only where both sides are testable: (a: supported/supported) agrees,
    # (b: contradicted/supported) does not, (c: not testable here) is not counted
    assert counts["testable_both"] == 2 and counts["agree"] == 1
    assert counts["paper supported"] == 3 and counts["paper total"] == 3
    md = ledger.ledger_markdown(table)
    assert "{doc}`noh2023_age_accuracy`" in md and "### Jeong & Kim 2021" in md
    assert md.count("```{list-table}") == 2
    assert md.count("\n* - ") == 2 + 4   # a header per paper and four claim rows
    assert "{bdg-light}`synthetic`" in md  # the tag comes from results.json: page 3 is real
    assert md.count("{bdg-light}`synthetic`") == 2
    assert "stable:" not in md and "varies:" not in md  # one seed: the sentence says so
    assert "not measured in this build" in ledger.stability_sentence(table)
    assert "emo-book build --seeds 0,1,2" in ledger.stability_sentence(table)
    # no value in these claims tables: each side's evidence stands in, marked
    assert "*evidence:* paper a" in md and "*evidence:* run b" in md
    assert "{bdg-danger}`contradicted`" in md and "{bdg-secondary-line}`not known`" in md
    assert "  - this run ({bdg-danger}`contradicted`; synthetic, cpu (2 threads)): run b" in md


def test_unknown_verdict_or_failed_page_is_shown_not_read(tmp_path):
    folder = tmp_path / "noh2023_x"
    folder.mkdir()
    pd.DataFrame({"claim": ["a"], "verdict": ["not supported"], "evidence": ["e"]},
                 index=pd.Index(["id"], name="claim_id")).to_csv(folder / "claims.csv")
    page = ledger.read_page("noh2023_x", tmp_path)
    assert page.status.startswith(ledger.UNREADABLE) and "rebuild the page" in page.status
    row = ledger.build_ledger([page]).iloc[0]
    assert row["verdict"] == "not testable" and "not known" in row["claim"]
    assert ledger.read_page("noh2023_none", tmp_path).status == ledger.NOT_EXECUTED
    # a failed page's old files are not this build's: not read
    assert ledger.read_page("noh2023_x", tmp_path, ledger.FAILED).claims is None


def test_build_status_table_from_the_runners_record(tmp_path):
    from emo_lib.book import build_status

    assert build_status.read_build_record(tmp_path) is None
    record = {"profile": "smoke", "git": {"commit": "a" * 40, "dirty": False},
              "order": ["p1", "p2", "build_status"],
              "notebooks": {"p1": {"status": "executed", "seconds": 3.5, "executed_at": "t1"},
                            "p2": {"status": "failed", "seconds": 1.0, "error": "boom"},
                            "build_status": {"status": "pending"}}}
    (tmp_path / layout.BUILD_RECORD).write_text(json.dumps(record))
    table = build_status.status_table(build_status.read_build_record(tmp_path))
    assert table["page"].tolist() == ["p1", "p2", "build_status"]
    assert table["status"].tolist() == ["executed", "failed", "executing (this page)"]
    assert table.loc[1, "note"] == "boom"
    summary = build_status.build_summary(record)
    assert summary["seconds"] == 4.5 and summary["commit"] == "a" * 12
    assert summary["counts"] == {"executed": 1, "failed": 1, "executing (this page)": 1}
    assert build_status.prerequisites_text(record) == "" and \
        build_status.prerequisite_table(record).empty
    record["prerequisites"] = [
        {"label": "stand-in (seed 0)", "pages": ["p1", "p2"], "status": "computed",
         "seconds": 60.0, "note": "for p1, p2"},
        {"label": "pretraining of x", "pages": ["p2"], "status": "failed", "seconds": 2.0,
         "note": "exit 1: boom"}]
    assert "found 1 prerequisite (" in build_status.prerequisites_text(
        record | {"prerequisites": record["prerequisites"][:1]})
    prepared = build_status.prerequisite_table(record)
    assert prepared["for pages"].tolist() == ["p1, p2", "p2 (exit 1: boom)"]
    assert "2 prerequisites" in build_status.prerequisites_text(record) and \
        "62 s in all" in build_status.prerequisites_text(record)


def test_results_another_build_wrote_are_refused_and_shown_as_such(tmp_path, monkeypatch):
    """Results whose key is not the key of the executed copy this book shows (another book root
    or another build wrote them into this results folder) are never read: the ledger and the
    build-status page show the page as results from another build."""
    from emo_lib.book import build_status
    from emo_lib.pagekey import FOREIGN

    monkeypatch.setenv("EMO_BOOK_ROOT", str(tmp_path))
    monkeypatch.delenv("EMO_RESULTS", raising=False)
    (tmp_path / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: executed/noh2023_mine\n"
        "  - file: executed/noh2023_theirs\n  - file: executed/noh2023_unkeyed\n")
    results = tmp_path / "results"          # the default: under the book root
    assert layout.results_root() == results
    _page(results, "noh2023_mine", [("a", SUPPORTED, SUPPORTED)], key="m" * 64)
    _copy(tmp_path, "noh2023_mine", "m" * 64)
    _page(results, "noh2023_theirs", [("b", CONTRADICTED, SUPPORTED)], key="x" * 64)
    _copy(tmp_path, "noh2023_theirs", "t" * 64)
    _page(results, "noh2023_unkeyed", [("c", CONTRADICTED, SUPPORTED)])
    _copy(tmp_path, "noh2023_unkeyed", "u" * 64)
    table, counts = ledger.book_ledger()
    assert table["claim"].tolist()[0] == "a" and "b" not in table["claim"].tolist()
    theirs = table[table["page"] == "noh2023_theirs"].iloc[0]
    assert theirs["page status"].startswith(FOREIGN) and theirs["claim_id"] == ""
    assert "xxxxxxxxxxxx" in theirs["page status"] and "not known" in theirs["claim"]
    unkeyed = table[table["page"] == "noh2023_unkeyed"].iloc[0]
    assert "carry no build key" in unkeyed["page status"]
    assert counts["total"] == 1 and counts["pages_missing"] == 2

    record = {"order": ["noh2023_mine", "noh2023_theirs", "noh2023_old"],
              "notebooks": {"noh2023_mine": {"status": "up to date", "key": "m" * 64},
                            "noh2023_theirs": {"status": "executed", "key": "t" * 64},
                            "noh2023_old": {"status": "executed", "key": "o" * 64}}}
    _copy(tmp_path, "noh2023_old", "n" * 64)     # this book shows another execution
    (results / layout.BUILD_RECORD).write_text(json.dumps(record))
    table = build_status.status_table(build_status.read_build_record())
    assert table["status"].tolist() == ["up to date", FOREIGN, FOREIGN]
    assert "written by execution xxxxxxxxxxxx" in table.loc[1, "note"]
    assert "the build record describes execution oooooooooooo" in table.loc[2, "note"]


def test_ledger_shows_stability_across_seeds_and_the_rules_each_page_applied(tmp_path,
                                                                              monkeypatch):
    from emo_lib.seeds import claims_across_seeds

    def table(verdicts):
        return claims_table([{"claim": f"c{i}", "verdict": v, "evidence": "e"}
                             for i, v in enumerate(verdicts)], ["a", "b"])

    folder = tmp_path / "noh2023_age_accuracy"
    folder.mkdir()
    claims, _ = claims_across_seeds({0: table([SUPPORTED, SUPPORTED]),
                                     1: table([SUPPORTED, NOT_TESTABLE])})
    claims.to_csv(folder / "claims.csv")
    (folder / "results.json").write_text(json.dumps({"synthetic": True, "device": "cpu"}))
    (folder / "rules.md").write_text("**How**\n\n- Rule one +/-0.2.\n- Rule two.\n")
    other = tmp_path / "noh2023_gender_accuracy"
    other.mkdir()
    (other / "rules.md").write_text("- Rule one +/-0.2.\n")
    page = ledger.read_page("noh2023_age_accuracy", tmp_path)
    built = ledger.build_ledger([page])
    assert built["verdict"].tolist() == [SUPPORTED, "varies"]
    assert built["stability"].tolist() == ["stable: supported in 2 of 2",
                                           "varies: supported 1, not testable 1"]
    assert ledger.stability_sentence(built).startswith("2 of 2 claims were computed with "
                                                       "several seeds: 1 stable, 1 varying")
    md = ledger.ledger_markdown(built)
    assert "{bdg-info}`varies`\n\n    across seeds: supported 1, not testable 1" in md
    assert "{bdg-success}`supported`\n\n    stable: supported in 2 of 2" in md
    monkeypatch.setattr(ledger, "book_notebooks", lambda: ["noh2023_age_accuracy",
                                                           "noh2023_gender_accuracy"])
    rules = ledger.rules_by_page(tmp_path).splitlines()
    assert rules == ["- Rule one +/-0.2. ({doc}`noh2023_age_accuracy`, "
                     "{doc}`noh2023_gender_accuracy`)",
                     "- Rule two. ({doc}`noh2023_age_accuracy`)"]


def _claims_page(root, name, rows, synthetic=True, datasets=("synthetic:cafe_like",)):
    """A page whose claims table carries the contract's columns (rows: dicts with claim_id)."""
    folder = root / name
    folder.mkdir(parents=True)
    ids = [r.pop("claim_id") for r in rows]
    own = [{"claim": r["claim"], "verdict": r.pop("paper_verdict"),
            "evidence": r.pop("paper_evidence", "paper says")} for r in rows]
    mine = claims_table([{"evidence": "run says"} | r for r in rows], ids)
    with_paper_verdicts(mine, claims_table(own, ids)).to_csv(folder / "claims.csv")
    (folder / "results.json").write_text(json.dumps({
        "synthetic": synthetic, "device": "cpu (1 thread)",
        "datasets": [{"name": d, "synthetic": synthetic} for d in datasets],
        "provenance": {"profile": "smoke"}}))


def _pages(root, names):
    return ledger.build_ledger([ledger.read_page(n, root) for n in names])


def test_a_claim_tested_on_two_pages_is_one_row_counted_once(tmp_path):
    """Paper 2's Table 4 claim is tested on the Table 4 and the Fig. 5 pages: one row, the
    first page's numbers (book order), the other page named with its verdict."""
    claim = {"claim_id": "proposed_gain_b0", "claim": "F1 about 30 % above the baseline.",
             "paper_verdict": NOT_TESTABLE}
    _claims_page(tmp_path, "jeong2021_balanced_augmentation",
                 [{**claim, "verdict": SUPPORTED, "value": "0.40 vs 0.30 (+0.10 [0.05, 0.15])",
                   "paper_value": "0.325 vs 0.249", "tags": "descriptive only"}])
    _claims_page(tmp_path, "jeong2021_model_scaling",
                 [{**claim, "verdict": INCONCLUSIVE, "value": "0.38 vs 0.30"},
                  {"claim_id": "gain_b5", "claim": "B5 about 40 % above.", "verdict": SUPPORTED,
                   "paper_verdict": NOT_TESTABLE}])
    table = _pages(tmp_path, ["jeong2021_balanced_augmentation", "jeong2021_model_scaling"])
    assert table["claim_id"].tolist() == ["proposed_gain_b0", "gain_b5"]
    row = table.iloc[0]
    assert row["page"] == "jeong2021_balanced_augmentation" and row["verdict"] == SUPPORTED
    assert row["value"].startswith("0.40")
    assert row["also"] == "jeong2021_model_scaling: inconclusive"
    assert row["tags"] == "synthetic; descriptive only"
    counts = ledger.ledger_counts(table)
    assert counts["total"] == 2 and counts[SUPPORTED] == 2 and counts[INCONCLUSIVE] == 0
    md = ledger.ledger_markdown(table)
    assert md.count("* - **F1 about 30 % above the baseline.**") == 1
    assert ("numbers from {doc}`jeong2021_balanced_augmentation` (the first page in the book "
            "that tests it); also on {doc}`jeong2021_model_scaling` {bdg-warning}`inconclusive`"
            ) in md
    assert "  - 0.325 vs 0.249\n" in md and "  - 0.40 vs 0.30 (+0.10 [0.05, 0.15])\n" in md
    assert "{bdg-light}`descriptive only`" in md


def test_headline_boxes_count_each_side_and_name_what_the_papers_numbers_do_not_support(
        tmp_path):
    _claims_page(tmp_path, "noh2023_age_accuracy", [
        {"claim_id": "a", "claim": "A holds.", "verdict": SUPPORTED, "paper_verdict": SUPPORTED},
        {"claim_id": "b", "claim": "B holds.", "verdict": CONTRADICTED,
         "paper_verdict": INCONCLUSIVE},
        {"claim_id": "c", "claim": "C holds.", "verdict": INCONCLUSIVE,
         "paper_verdict": PARTLY_SUPPORTED, "detectable": "0.12", "tags": "by construction",
         "construction": "The generator sets C ({ref}`synthetic-faces`)."},
        {"claim_id": "d", "claim": "D holds.", "verdict": SUPPORTED,
         "paper_verdict": NOT_TESTABLE}])
    table = _pages(tmp_path, ["noh2023_age_accuracy"])
    boxes = ledger.headlines_markdown(table)
    paper, run = boxes.split("\n\n::::{admonition} ")
    assert paper.startswith("::::{admonition} Re-analysis of the papers' own numbers")
    assert ("{bdg-success}`1 supported` {bdg-success-line}`1 partly supported` "
            "{bdg-warning}`1 inconclusive` {bdg-danger}`0 contradicted` "
            "{bdg-secondary-line}`1 not testable`") in paper
    assert "on 4 claims" in paper
    not_supported = paper.split("**Not supported by the papers' own numbers:**")[1]
    assert "- B holds. {bdg-warning}`inconclusive` ({doc}`noh2023_age_accuracy`)" in not_supported
    assert "A holds." not in paper and "D holds." not in paper
    assert "**Supported only in part:**\n\n- C holds." in paper
    assert run.startswith("This build's demonstration on synthetic data\n:class: warning")
    assert "{bdg-success}`2 supported`" in run and "{bdg-danger}`1 contradicted`" in run
    assert "Data: the embedded synthetic data (synthetic:cafe_like); profile `smoke`" in run
    assert "never as a reproduction of the papers' results" in run
    assert "1 of them are *by construction*" in run
    # a, b, c testable on both sides (d is not testable on the paper's side): a agrees
    assert ("On the 3 claims testable on both sides (neither *not testable*), this build's "
            "verdict and the paper's numbers' agree on 1.") in run
    md = ledger.ledger_markdown(table)
    assert "*by construction:* The generator sets C ({ref}`synthetic-faces`)." in md
    assert "could not have seen less than 0.12" in md
    counts = ledger.ledger_counts(table)
    assert counts["paper partly supported"] == 1 and counts["paper not testable"] == 1


def test_a_build_on_real_data_is_not_called_a_demonstration(tmp_path):
    _claims_page(tmp_path, "noh2023_age_accuracy",
                 [{"claim_id": "a", "claim": "A.", "verdict": SUPPORTED,
                   "paper_verdict": SUPPORTED}], synthetic=False, datasets=("cafe", "nimh_chefs"))
    table = _pages(tmp_path, ["noh2023_age_accuracy"])
    boxes = ledger.headlines_markdown(table)
    assert "This build's results on the real data" in boxes and "synthetic" not in boxes
    assert "Data: the real data (cafe, nimh_chefs)" in boxes
    assert "Every claim the papers' own numbers can test is supported" in boxes


def test_every_rule_a_verdict_can_come_from_is_listed(tmp_path, monkeypatch):
    """The rules section holds every rule of verdicts.RULES: those this build's pages applied
    (parameters filled in, with the pages), then the others with their parameters named; a
    rule sentence is recognised whatever its parameters."""
    from emo_lib.verdicts import RULES, rule_parameters, rules_markdown

    values = {"alpha": 0.05, "margin": 0.1, "threshold": 0.2, "n_perm": 2000}
    for kind in RULES:
        [line] = [x for x in rules_markdown(kind, **values).splitlines() if x.startswith("- ")]
        assert ledger.rule_of(line) == kind, (kind, line)
        assert set(rule_parameters(kind)) <= set(values)
    folder = tmp_path / "noh2023_age_accuracy"
    folder.mkdir()
    (folder / "rules.md").write_text(rules_markdown("direction", "equivalence", margin=0.1))
    monkeypatch.setattr(ledger, "book_notebooks", lambda: ["noh2023_age_accuracy"])
    section = ledger.rules_section(tmp_path)
    used, unused = section.split("Rules no page of this build applied")
    assert "p < 0.05" in used and "+/-0.1" in used and "{doc}`noh2023_age_accuracy`" in used
    listed = [line for line in unused.splitlines() if line.startswith("- ")]
    assert len(listed) == len(RULES) - 2
    assert any("+/-*margin*" in line for line in listed)   # regions: parameters named
    assert "None" not in section and "{alpha}" not in section


def test_balanced_found_says_missing_numbers_in_words(tmp_path):
    """The chapter page's "What this build found": numbers when the Table 4 page computed them,
    words (never nan) when every fold collapsed, and a plain sentence when it did not run."""
    import json
    import math

    folder = tmp_path / ledger.BALANCED_PAGE
    folder.mkdir()
    values = {"baseline_f1_mean": 0.41, "baseline_f1_ci_low": 0.38, "baseline_f1_ci_high": 0.44,
              "proposed_f1_mean": 0.45, "proposed_f1_ci_low": 0.4, "proposed_f1_ci_high": 0.5,
              "claim_proposed_gain_b0": "supported", "balanced_collapsed": 0,
              "balanced_folds_total": 10}
    (folder / "results.json").write_text(json.dumps({"values": values}))
    text = ledger.balanced_found(tmp_path)
    assert "baseline scored macro F1 0.410 (95 % interval 0.380 to 0.440)" in text
    assert "is supported (0 of 10 folds collapsed)" in text
    values |= {"baseline_f1_mean": math.nan, "proposed_f1_mean": None}
    (folder / "results.json").write_text(json.dumps({"values": values}))
    text = ledger.balanced_found(tmp_path)
    assert "nan" not in text.lower() and "None" not in text and "no macro F1" in text
    assert "did not run" in ledger.balanced_found(tmp_path / "elsewhere")
