"""``emo-book``: execute the parameterized notebooks with papermill and build the Jupyter Book.

One concern per module:

- :mod:`.errors`: exceptions and argument checks (the book root and its folders are
  :mod:`emo_lib.layout`; a notebook's declared parameters, :mod:`emo_lib.notebook_parameters`);
- :mod:`.notebooks`: the order pages execute in, and their lanes;
- :mod:`.profiles`: profiles and ``-p [NOTEBOOK.]KEY=VALUE`` overrides, as read;
- :mod:`.parameters`: merging and validating them (every problem at once);
- :mod:`.options`: executor and compute settings from profile and command line (passed to
  kernels as environment variables);
- :mod:`.incremental`: a notebook's inputs, their key, the up-to-date rule;
- :mod:`.execute`: one papermill execution and its executed copy;
- :mod:`.record`: ``results/build_status.json``; :mod:`.builder`: ``emo-book build``;
- :mod:`.cli`: the command line (``emo-book = "emo_lib.runner:main"``).
"""
from .builder import build, build_book, summary
from .cli import main, make_parser
from .errors import ProfileError, RunnerError, ValidationError
from .execute import Outcome, ensure_kernel, execute
from .incremental import staleness
from ..layout import book_notebooks
from ..notebook_parameters import declared_parameters, notebook_path, type_mismatch
from .options import EXECUTORS, ExecutorSettings, compute_options, executor_options
from .parameters import merged_parameters, redundant_entries, resolve_parameters, seeds_note
from ..layout import (
    EXECUTED, KERNEL_NAME, book_root, executed_dir, notebooks_dir, profiles_dir, runs_dir,
)
from .profiles import (
    SEEDS, Override, Profile, load_profile, parse_overrides, parse_seeds, seeds_override,
)

__all__ = [
    "build", "build_book", "summary", "main", "make_parser", "ProfileError", "RunnerError",
    "ValidationError", "Outcome", "ensure_kernel", "execute", "staleness", "book_notebooks",
    "declared_parameters", "notebook_path", "type_mismatch", "EXECUTORS", "ExecutorSettings",
    "compute_options", "executor_options", "merged_parameters", "redundant_entries",
    "resolve_parameters",
    "EXECUTED", "KERNEL_NAME", "book_root", "executed_dir", "notebooks_dir", "profiles_dir",
    "runs_dir", "Override", "Profile", "load_profile", "parse_overrides", "SEEDS",
    "parse_seeds", "seeds_note", "seeds_override",
]
