"""Launch buttons (Binder, Colab) on the book's executed pages, pointing at the page's notebook in
the repository: a Sphinx extension (``_config.yml``: ``sphinx.extra_extensions``).

sphinx-book-theme builds launch links from a page's own path, and a notebook page is built from
``executed/<name>.ipynb``, a build product that is never in the repository. So the theme's
buttons are configured as usual (``launch_buttons`` in ``_config.yml``: the providers and the
interface), and this extension does two things:

- at ``config-inited``: the repository comes from the build environment,
  ``EMO_BOOK_REPOSITORY`` (``owner/name`` or a full ``https://`` URL; the publishing workflow
  passes its own repository) and ``EMO_BOOK_BRANCH`` (default ``main``). With it, the theme gets
  ``repository_url``/``repository_branch`` and shows a repository button too; without it (a local
  build), the providers are removed, so the book shows no launch button at all.
- at ``html-page-context``, after the theme made its buttons: on each ``executed/<name>`` page,
  every launch link's ``executed/<name>.ipynb`` becomes ``notebooks/<name>.ipynb`` (which
  ``tests/test_notebooks.py`` keeps in step with its source). A link that does not name the
  executed copy, or a page whose notebook is missing, is a Sphinx warning (an error under ``-W``,
  as the book builds): a changed theme must not publish links to nowhere.

It neither renders anything itself nor reads which notebooks there are (:mod:`emo_lib.layout`).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .layout import EXECUTED

#: The environment variables the build reads.
REPOSITORY_ENV = "EMO_BOOK_REPOSITORY"
BRANCH_ENV = "EMO_BOOK_BRANCH"
#: The launch providers of sphinx-book-theme's ``launch_buttons`` (each needs a repository).
PROVIDERS = ("binderhub_url", "jupyterhub_url", "colab_url", "deepnote_url", "jupyterlite_url",
             "thebe")
#: The theme's label of its launch-button group.
LAUNCH_GROUP = "launch-buttons"
#: Where a page's notebook lives in the repository.
NOTEBOOKS = "notebooks"


def repository_url(value: str | None) -> str:
    """``owner/name`` as a GitHub URL; a full URL unchanged (without a trailing ``/`` or
    ``.git``); "" for nothing.

    >>> repository_url("octo/emo-book")
    'https://github.com/octo/emo-book'
    >>> repository_url("https://gitlab.com/octo/emo-book.git")
    'https://gitlab.com/octo/emo-book'
    """
    value = (value or "").strip().rstrip("/")
    if value.endswith(".git"):
        value = value[:-4]
    if not value:
        return ""
    if "://" in value:
        return value
    if value.count("/") != 1:
        raise ValueError(f"{REPOSITORY_ENV}={value!r}: expected owner/name or an https:// URL")
    return f"https://github.com/{value}"


def configure(theme_options: dict[str, Any], environ: dict[str, str] | None = None) -> bool:
    """Set the theme's repository from the environment, or remove the launch providers when
    there is none. Returns whether launch buttons stay on."""
    environ = dict(os.environ if environ is None else environ)
    url = repository_url(environ.get(REPOSITORY_ENV))
    launch = dict(theme_options.get("launch_buttons") or {})
    if url:
        theme_options["repository_url"] = url
        theme_options["repository_branch"] = environ.get(BRANCH_ENV) or "main"
        theme_options["use_repository_button"] = True
    else:
        for key in PROVIDERS:
            launch.pop(key, None)
    theme_options["launch_buttons"] = launch
    return bool(url) and any(launch.get(key) for key in PROVIDERS)


def repoint(pagename: str, header_buttons: list[dict[str, Any]]) -> list[str]:
    """Point the launch links of page ``pagename`` at its notebook in ``notebooks/``; returns
    the problems (links that do not name the executed copy)."""
    prefix = f"{EXECUTED}/"
    if not pagename.startswith(prefix):
        return []
    name = pagename[len(prefix):]
    executed, source = f"{EXECUTED}/{name}.ipynb", f"{NOTEBOOKS}/{name}.ipynb"
    problems = []
    for group in header_buttons:
        if group.get("label") != LAUNCH_GROUP:
            continue
        for button in group.get("buttons", []):
            if button.get("type") != "link":
                continue
            if executed not in button["url"]:
                problems.append(f"{pagename}: the {button.get('text')} link {button['url']} "
                                f"does not name {executed}")
                continue
            button["url"] = button["url"].replace(executed, source)
    return problems


def _config_inited(app: Any, config: Any) -> None:
    from sphinx.util import logging

    on = configure(config.html_theme_options)
    logging.getLogger(__name__).info(
        f"launch buttons: {config.html_theme_options['repository_url']}" if on else
        f"launch buttons: none ({REPOSITORY_ENV} is not set)")


def _page_context(app: Any, pagename: str, templatename: str, context: dict[str, Any],
                  doctree: Any) -> None:
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    buttons = context.get("header_buttons") or []
    if not any(group.get("label") == LAUNCH_GROUP for group in buttons):
        return
    for problem in repoint(pagename, buttons):
        logger.warning(problem)
    if pagename.startswith(f"{EXECUTED}/"):
        notebook = Path(app.srcdir) / NOTEBOOKS / f"{pagename.split('/', 1)[1]}.ipynb"
        if not notebook.exists():
            logger.warning(f"{pagename}: its launch buttons point at {notebook.name}, which is "
                           f"not in {NOTEBOOKS}/")


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _config_inited)
    # After sphinx-book-theme's add_launch_buttons (priority 501).
    app.connect("html-page-context", _page_context, priority=600)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
