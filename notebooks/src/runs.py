# ---
# jupyter:
#   kernelspec:
#     display_name: Python (emo-lib)
#     language: python
#     name: emo-lib
# ---

# %% [markdown]
# # Your runs, side by side
#
# Every page can be re-executed with other parameters, `emo-book run <page> -p key=value`
# (another seed, model, sample count, data set); each run lands in its own folder under `runs/`
# with its executed notebook, an HTML rendering and its results, never over the book's. This
# page sets each run beside the book's own run of that page: the parameters that differ (and the
# machine, where a run's arithmetic differs from the book's: another CPU instruction set, GPU or
# determinism setting can move numbers without any parameter changing), then every glued value
# and every claim's verdict (with the verdict the same rule gives on the paper's own numbers).
# Runs are yours: they are listed here, never moved or overwritten.

# %% tags=["parameters"]
runs_root = ""  # folder of the runs (default: runs/ beside the book)
results_root = ""  # the book's results (default: this build's)
seed = 0  # unused: this page computes nothing random (kept for the book's conventions)

# %% tags=["remove-input"]
from pathlib import Path

from emo_lib.book import runs
from emo_lib.book.report import Run, downloads_line, show_markdown
from emo_lib.layout import book_root, runs_dir
from emo_lib.layout import results_root as default_results

run = Run.from_parameters("runs", globals())
found = runs.find_runs(Path(runs_root) if runs_root else runs_dir())
run.glue("n_runs", len(found))
if not found:
    show_markdown("No run yet. Try, for example, `emo-book run noh2023_age_accuracy -p seed=1` "
                  "and build the book again: the run appears here beside the book's.")
for page in dict.fromkeys(r.notebook for r in found):
    mine = [r for r in found if r.notebook == page]
    book = runs.book_run(page, Path(results_root) if results_root else default_results())
    show_markdown(f"## {{doc}}`{page}`\n\n{len(mine)} run(s)"
                  + ("" if book else " (the book has no run of this page in this build)"))
    html = [r.html for r in mine if r.html is not None]
    if html:
        show_markdown(downloads_line(html, book_root()).replace("**Result files:**",
                                                                "**The runs as HTML:**"))
    for flag in runs.machine_flags(book, mine):
        show_markdown(f"```{{warning}}\n{flag}\n```")
    run.table(runs.parameter_table(book, mine), f"{page}_parameters")
    run.table(runs.value_table(book, mine), f"{page}_values")

# %% [markdown]
# Runs found: {glue:text}`n_runs`.

# %% tags=["remove-input"]
run.finish();
