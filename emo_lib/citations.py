"""Citations as a reader reads them, for text a page shows outside MyST's ``{cite}`` role.

Table cells are escaped HTML (:func:`emo_lib.book.pagestyle.table_html`), so a BibTeX key in a
cell would reach the reader as ``farkas1992orbital``. :func:`cite_text` turns a key of
``book/references.bib`` into the author-year form the bibliography uses ("Farkas et al. 1992"),
read from the same file, so a table's source column and the bibliography cannot disagree.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from .layout import REPO_ROOT, book_root


def bibliography_file() -> Path:
    """``book/references.bib`` of the book root, else of the repository emo_lib comes from."""
    here = book_root() / "book" / "references.bib"
    return here if here.exists() else REPO_ROOT / "book" / "references.bib"


@lru_cache(maxsize=4)
def _entries(path: Path) -> dict:
    from pybtex.database import parse_file

    return dict(parse_file(str(path)).entries)


def cite_text(key: str, bib: Path | None = None) -> str:
    """``"Farkas et al. 1992"`` (three or more authors), ``"Egger & Pine 2011"`` (two),
    ``"Smith 2020"`` (one), from entry ``key`` of ``bib`` (default :func:`bibliography_file`);
    an organisation as author keeps its full name. An unknown key raises KeyError naming it."""
    entries = _entries(Path(bib or bibliography_file()))
    if key not in entries:
        raise KeyError(f"no entry {key!r} in the bibliography ({bib or bibliography_file()})")
    entry = entries[key]
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    # braces protect an organisation's name in BibTeX; they are not part of the name
    names = [" ".join(p.last_names).replace("{", "").replace("}", "") for p in people]
    if not names:
        who = entry.fields.get("organization") or entry.fields.get("title", key)
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} & {names[1]}"
    else:
        who = f"{names[0]} et al."
    year = entry.fields.get("year", "n.d.")
    return f"{who} {year}"


__all__ = ["bibliography_file", "cite_text"]
