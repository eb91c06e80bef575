"""The "Re-run this page" box every executed page ends with: the command that reproduces the
page with this build's parameters, the line for the paper profile on the real data, and the
same in JupyterLab (the notebook to open and the lines to paste into its ``parameters`` cell).

The page's values come from ``Run`` (every declared parameter, and the notebook's defaults);
what only the runner knows (values read from environment variables, the paper profile's values
for the page) from the :class:`emo_lib.rerun_spec.RerunSpec` it hands the kernel. Values are
written as ``-p KEY=VALUE`` reads them (:func:`emo_lib.notebook_parameters.yaml_text`), each
item quoted for a POSIX shell; a value read from a variable as ``"key=${VAR}"``, never the
builder's folder; any other absolute path as ``/path/to/<its last part>`` (said so under the
command). Nothing here executes anything or reads a profile.
"""
from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path
from typing import Any, Mapping

from ..notebook_parameters import literal, yaml_text
from ..rerun_spec import PAPER_PROFILE, RerunSpec

#: How a reader calls the command line from the book's folder (README: ``make book`` creates
#: ``.venv``).
PROGRAM = ".venv/bin/emo-book"
#: The box's title (the browser test knows it: the box may follow a page's summary).
TITLE = "Re-run this page"
#: Longer commands are broken after each item (``\\`` line continuations); the box holds
#: about 64 characters a line at 1280 pixels, and wraps the rest (copying keeps them whole).
LINE = 72


def placeholder(variable: str) -> str:
    """Where a reader puts the folder an environment variable names: ``CAFE_ROOT`` ->
    ``/path/to/CAFE``."""
    return f"/path/to/{variable.removesuffix('_ROOT') or variable}"


def _local_path(value: Any) -> bool:
    return isinstance(value, str) and os.path.isabs(value) and bool(Path(value).name)


def changed_values(params: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters whose value differs from the notebook's default (``defaults`` as
    papermill reports them, source text); all of them when the defaults are unknown."""
    if not defaults:
        return dict(params)
    return {k: v for k, v in params.items() if k not in defaults or v != literal(defaults[k])}


def python_literal(value: Any) -> str:
    """``value`` as a Python literal for a ``parameters`` cell (text in double quotes)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python_literal(k)}: {python_literal(v)}"
                               for k, v in value.items()) + "}"
    return repr(value.item() if hasattr(value, "item") else value)


def _variables(templates: Mapping[str, str]) -> list[str]:
    return sorted({v for t in templates.values() for v in re.findall(r"\$\{(\w+)\}", t)})


def _item(key: str, value: Any, template: str | None) -> str:
    """One ``-p`` item, quoted for the shell (a template in double quotes, so it expands)."""
    if template is not None:
        escaped = template.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
        return f'-p "{key}={escaped}"'
    if _local_path(value):
        value = placeholder(Path(value).name)
    text = "" if value == "" else yaml_text(value)
    return f"-p {shell_quote(f'{key}={text}')}"


def shell_quote(text: str) -> str:
    """``text`` as one word for a POSIX shell, as readable as it can be: bare when safe, in
    single quotes, in double quotes when it holds a single quote (and nothing a shell expands
    there), else as :func:`shlex.quote` writes it."""
    if shlex.quote(text) == text:
        return text
    if "'" not in text:
        return f"'{text}'"
    if not re.search(r'[$`"\\!]', text):
        return f'"{text}"'
    return shlex.quote(text)


def _lines(head: str, items: list[str]) -> str:
    """``head`` and ``items`` on one line, or one item a line (``\\`` continuations) when long."""
    one = " ".join([head, *items])
    return one if len(one) <= LINE else " \\\n  ".join([head, *items])


def command(page: str, values: Mapping[str, Any], templates: Mapping[str, str] | None = None,
            profile: str | None = None, program: str = PROGRAM) -> str:
    """``emo-book run PAGE [--profile P] -p KEY=VALUE ...``: ``values`` (the changed ones), a
    value read from a variable in ``templates`` written as that variable, prefixed by the
    variables it needs (each at its placeholder folder)."""
    templates = {k: t for k, t in (templates or {}).items() if k in values}
    prefix = " ".join(f"{v}={placeholder(v)}" for v in _variables(templates))
    head = " ".join(p for p in (prefix, program, "run", page) if p)
    head += f" --profile {shlex.quote(profile)}" if profile else ""
    return _lines(head, [_item(k, v, templates.get(k)) for k, v in values.items()])


def paper_command(page: str, variables: list[str], program: str = PROGRAM) -> str:
    """The paper profile's line: its data variables, each at a placeholder folder."""
    prefix = " ".join(f"{v}={placeholder(v)}" for v in variables)
    cmd = f"{program} run {page} --profile {PAPER_PROFILE}"
    one = f"{prefix} {cmd}".strip()
    return one if len(one) <= LINE else f"{prefix} \\\n  {cmd}"


def parameter_lines(values: Mapping[str, Any], templates: Mapping[str, str] | None = None
                    ) -> str:
    """Lines for a ``parameters`` cell: ``name = value``; a value read from a variable (or a
    local folder) as its placeholder folder, with the variable in a comment."""
    templates = templates or {}
    lines = []
    for key, value in values.items():
        if key in templates:
            names = _variables({key: templates[key]})
            shown = templates[key]
            for name in names:
                shown = shown.replace(f"${{{name}}}", placeholder(name))
            lines.append(f"{key} = {python_literal(shown)}  # your "
                         + ", ".join(f"${n}" for n in names))
        elif _local_path(value):
            lines.append(f"{key} = {python_literal(placeholder(Path(value).name))}  "
                         "# your folder")
        else:
            lines.append(f"{key} = {python_literal(value)}")
    return "\n".join(lines)


def _fence(text: str, language: str) -> str:
    return f"```{language}\n{text}\n```"


def rerun_markdown(page: str, params: Mapping[str, Any], defaults: Mapping[str, Any],
                   spec: RerunSpec | None = None) -> str:
    """The box (MyST, folded): the command for this build's values, the paper profile's line,
    and the JupyterLab way with the lines to paste for each. ``spec``: the runner's
    (:func:`emo_lib.rerun_spec.current_rerun_spec`); without it (a notebook run by hand) the
    values are written out as they are and the paper line names no data variables."""
    values = changed_values(params, defaults)
    templates = dict(spec.templates) if spec else {}
    local = any(_local_path(v) for k, v in values.items() if k not in templates)
    notebook = f"notebooks/{page}.ipynb"
    parts = ["From the book's folder (after `make book` has created `.venv`), with this "
             "build's parameters" + ("" if values else " (the notebook's defaults)") + ":",
             _fence(command(page, values, templates), "bash")]
    if local:
        parts.append("(`/path/to/...`: the folder on your machine.)")
    paper_built = spec is not None and spec.profile == PAPER_PROFILE
    paper = spec.paper if spec else None
    if paper_built:
        parts.append("This build used the paper profile (`--profile paper`): the command "
                     "above writes out its values.")
    elif paper == {}:
        parts.append("The paper profile sets nothing on this page: under it the page runs "
                     "with the notebook's defaults.")
    elif spec is None or paper is not None:
        variables = spec.paper_variables if spec else []
        parts += ["With the papers' settings on the real data (the paper profile: a GPU"
                  + (", and the data sets' folders in " + ", ".join(f"`{v}`" for v in variables)
                     if variables else "") + "):",
                  _fence(paper_command(page, variables), "bash")]
    lab = (f"In JupyterLab (`make lab`): open `{notebook}`, add these lines at the end of its "
           "`parameters` cell, and run all cells")
    if values:
        parts += [lab + ":", _fence(parameter_lines(values, templates), "python")]
    else:
        parts.append(f"In JupyterLab (`make lab`): open `{notebook}` and run all cells "
                     "(its `parameters` cell holds this build's values).")
    if paper and not paper_built:
        order = list(params)  # the notebook's order, as in its parameters cell
        paper = dict(sorted(paper.items(),
                            key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)))
        paper_templates = {k: v for k, v in paper.items()
                           if isinstance(v, str) and "${" in v}
        parts += ["for the paper profile's settings:",
                  _fence(parameter_lines(paper, paper_templates), "python")]
    body = "\n\n".join(parts)
    return f"````{{admonition}} {TITLE}\n:class: dropdown emo-rerun\n\n{body}\n````"


__all__ = ["PROGRAM", "TITLE", "changed_values", "command", "paper_command", "parameter_lines",
           "placeholder", "python_literal", "rerun_markdown", "shell_quote"]
