"""Every page prints its rules with the parameters it passes: each ``claim_rules(...)`` /
``rules_markdown(...)`` call in a notebook source, evaluated with that notebook's parameters
under every profile, renders with no "None", "nan" or unfilled field (issue 16: the ledger
printed "within +/-None")."""
from __future__ import annotations

import ast
import re
import types
from pathlib import Path

import pytest

from emo_lib import jeong2021 as jg
from emo_lib import noh2023 as nh
from emo_lib import runner

ROOT = Path(__file__).resolve().parent.parent
PROFILES = [ROOT / "profiles" / "smoke.yml", ROOT / "profiles" / "paper.yml",
            ROOT / "tests" / "profiles" / "tiny.yml"]
RULE_CALLS = ("claim_rules", "rules_markdown")


def _rule_calls(source: str) -> list[str]:
    calls = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else \
                getattr(node.func, "id", "")
            if name in RULE_CALLS:
                calls.append(ast.unparse(node))
    return calls


PAGES = sorted(p.stem for p in (ROOT / "notebooks" / "src").glob("*.py")
               if _rule_calls(p.read_text()))


@pytest.fixture
def repo_book(monkeypatch):
    monkeypatch.setenv("EMO_BOOK_ROOT", str(ROOT))
    return runner.book_notebooks()


def test_every_paper_page_prints_its_rules():
    assert {"noh2023_age_accuracy", "noh2023_gender_accuracy", "noh2023_lime_age",
            "noh2023_lime_gender", "noh2023_additional_training"} <= set(PAGES)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.stem)
@pytest.mark.parametrize("page", PAGES)
def test_rules_render_with_the_parameters_each_page_passes(page, profile, repo_book):
    resolved = runner.resolve_parameters(runner.load_profile(profile), repo_book,
                                         check_data=[])[page]
    params = runner.merged_parameters(page, resolved)
    namespace = {**params, "nh": nh, "jg": jg, "run": types.SimpleNamespace(params=params)}
    for call in _rule_calls((ROOT / "notebooks" / "src" / f"{page}.py").read_text()):
        text = eval(call, namespace)  # noqa: S307 (the book's own notebook source)
        assert text.startswith("**How the verdicts are reached.**"), call
        for bad in ("None", "nan", "NaN"):
            assert not re.search(rf"\b{bad}\b", text), f"{page}: {call} prints {bad!r}:\n{text}"
        assert "{" not in text, f"{page}: {call} leaves a field unfilled:\n{text}"
