# ---
# jupyter:
#   kernelspec:
#     display_name: Python (emo-lib)
#     language: python
#     name: emo-lib
# ---

# %% [markdown]
# # Build status
#
# What the build that made this book did to every page: *executed* (run in this build),
# *up to date* (its inputs had not changed since an earlier build, which it shows), *failed*
# (the page shows where it stopped), or *skipped* (left out with `emo-book build --only`). The
# seconds and the time are those of the execution each page shows. Read from the runner's
# build record (`results/build_status.json`); this page is executed by every build.

# %% tags=["parameters"]
results_root = ""  # folder of the build's results (default: this build's)
seed = 0  # unused: this page computes nothing random (kept for the book's conventions)

# %% tags=["remove-input"]
from emo_lib.book.build_status import build_summary, read_build_record, status_table
from emo_lib.book.report import Run, show_markdown

run = Run.from_parameters("build_status", globals())
record = read_build_record(results_root or None)
if record is None:
    show_markdown("```{warning}\nNo build record was found: this page was executed outside "
                  "`emo-book build`.\n```")
else:
    summary = build_summary(record)
    run.glue("build_profile", summary["profile"])
    run.glue("build_commit", summary["commit"] + (" (with uncommitted changes)"
                                                  if summary["dirty"] else ""))
    run.glue("build_counts", ", ".join(f"{n} {s}" for s, n in summary["counts"].items()))
    run.glue("build_seconds", summary["seconds"])
    run.table(status_table(record), "build_status")

# %% [markdown]
# Profile {glue:text}`build_profile`, commit {glue:text}`build_commit`: {glue:text}`build_counts`;
# the executions shown took {glue:text}`build_seconds:.0f` s in all.

# %% tags=["remove-input"]
run.finish();
