# ---
# jupyter:
#   kernelspec:
#     display_name: Python (emo-lib)
#     language: python
#     name: emo-lib
# ---

# %% [markdown]
# # The claims ledger
#
# Every claim of both papers in one table, gathered from the `claims.csv` each page of this
# build wrote: the claim, the numbers the paper rests it on and the verdict the page's rule
# gives on them, this run's numbers and verdict, the data it ran on, and the page. A page that
# failed or was not executed in this build shows as such: its claims are unknown, never
# silently missing. The verdicts' meaning is the same on every page (see the rules below).

# %% tags=["parameters"]
results_root = ""  # folder of the pages' results (default: this build's)
seed = 0  # unused: this page computes nothing random (kept for the book's conventions)

# %% tags=["remove-input"]
from emo_lib import paper
from emo_lib.book import ledger
from emo_lib.book.report import Run, show_markdown
from emo_lib.verdicts import VERDICTS

run = Run.from_parameters("claims_ledger", globals())
table, counts = ledger.book_ledger(results_root or None)
run.table(table, "ledger", display=False)
for key, value in counts.items():
    run.glue(f"n_{key.replace(' ', '_')}", value)
run.glue("verdict_counts", ", ".join(f"{counts[v]} {v}" for v in VERDICTS))
# The papers' headline numbers, glued here from paper_values.yaml for the introduction.
for key, value in paper.headlines().items():
    run.glue(f"paper_{key}", value)

# %% [markdown]
# This build tested {glue:text}`n_total` claims: {glue:text}`verdict_counts`.
# Pages that did not run in this build: {glue:text}`n_pages_missing`. On
# {glue:text}`n_agree_with_paper_rule` claims this run's verdict is the one the same rule gives
# on the paper's own numbers.

# %% tags=["remove-input"]
show_markdown(ledger.stability_sentence(table))
show_markdown(ledger.ledger_markdown(table))
rules = ledger.rules_by_page(results_root or None)
show_markdown("**How the verdicts are reached**, each rule as the pages applied it:\n\n"
              + rules if rules else "No page of this build wrote its rules.")

# %% tags=["remove-input"]
run.finish();
