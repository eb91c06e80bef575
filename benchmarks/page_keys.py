"""How long ``emo-book build`` takes to compute every page's key before it decides what to
execute (the cost of a warm, no-change build besides reading the executed copies and Sphinx).

Run: ``.venv/bin/python benchmarks/page_keys.py [PROFILE]`` (seconds, CPU only; default the
tiny test profile). Prints the import, parameter-resolution and key times: ``keys (first)`` is a
new ``emo-book build`` process (the code digests come from the memo under ``$EMO_CACHE``, cold
the first time after emo_lib/codedigest.py changes), ``keys (again)`` the same process once more.
Compare two checkouts alternately on one machine: timings under contention are noisy.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

t0 = time.perf_counter()
from emo_lib.layout import book_notebooks  # noqa: E402
from emo_lib.notebook_parameters import notebook_path  # noqa: E402
from emo_lib.runner.incremental import InputsOf, key_of  # noqa: E402
from emo_lib.runner.parameters import resolve_parameters  # noqa: E402
from emo_lib.runner.profiles import load_profile  # noqa: E402


def main(profile_spec: str) -> None:
    t1 = time.perf_counter()
    profile = load_profile(profile_spec)
    pages = book_notebooks()
    params = resolve_parameters(profile, pages, check_data=[])
    t2 = time.perf_counter()
    times = []
    for _ in range(2):
        start = time.perf_counter()
        inputs_of = InputsOf(kernel="emo-lib", profile=profile.name)
        for page in pages:
            key_of(inputs_of(page, notebook_path(page), params[page]))
        times.append(time.perf_counter() - start)
    print(f"import {t1 - t0:.2f} s  params {t2 - t1:.2f} s  keys (first) {times[0]:.3f} s  "
          f"keys (again) {times[1]:.3f} s  pages {len(pages)}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1
         else str(Path(__file__).resolve().parent.parent / "tests" / "profiles" / "tiny.yml"))
