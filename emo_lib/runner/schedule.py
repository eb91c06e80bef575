"""Lanes that share the work: pages in their part's order, prerequisites in any lane.

``emo-book build --lanes N`` runs ``N`` tasks at once. The tasks are the pages to execute,
chained per part of ``_toc.yml`` (:func:`.notebooks.lane_groups`: a part's pages share caches
and run in book order), and the prerequisites those pages declare
(:mod:`emo_lib.prerequisites`: pretrained weights, each cached by its recipe). A free lane takes

1. the costliest prerequisite not started yet, else
2. the next page of the first chain (longest chains first) whose previous page is done and
   whose prerequisites are done,

and waits while nothing is ready but something is still running. Pretraining then no longer
ties a paper's whole lane: on the smoke book, paper 2's four pretrainings and paper 1's
stand-ins spread over both lanes before the pages that read them. Which process computes a
prerequisite changes no number (the kernels' arithmetic and environment are the same, so is
the cache key); a prerequisite that fails is reported and its page computes it itself.

What it does not do: decide which pages execute (:mod:`.builder`), or run one (the callables
it is given).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Generic, Hashable, Mapping, Sequence, TypeVar

R = TypeVar("R")   # a prerequisite's outcome
Q = TypeVar("Q")   # a page's outcome


@dataclass
class Task:
    """One thing a lane does: a prerequisite (``page`` None) or a page."""

    name: Hashable
    page: str | None = None
    chain: int = -1


class Schedule(Generic[R, Q]):
    """The state shared by the lanes (see the module docstring); :meth:`run` runs them."""

    def __init__(self, chains: Sequence[Sequence[str]], prerequisites: Sequence[Hashable],
                 needs: Mapping[str, Sequence[Hashable]]) -> None:
        self.chains = [list(c) for c in chains if c]
        self.pending = list(prerequisites)          # costliest first
        known = set(self.pending)
        self.needs = {page: [k for k in needs.get(page, ()) if k in known]
                      for chain in self.chains for page in chain}
        self.finished: set[Hashable] = set()
        self.busy: set[int] = set()               # chains with a page executing
        self.cond = threading.Condition()

    def _next(self) -> Task | None:
        """The task a free lane takes now; None when nothing is ready (caller waits or ends)."""
        if self.pending:
            return Task(name=self.pending.pop(0))
        for i, chain in enumerate(self.chains):
            if chain and i not in self.busy and \
                    all(k in self.finished for k in self.needs[chain[0]]):
                self.busy.add(i)
                page = chain.pop(0)
                return Task(name=page, page=page, chain=i)
        return None

    def _done(self) -> bool:
        return not self.pending and not any(self.chains)

    def run(self, lanes: int, prerequisite: Callable[[Hashable], R],
            page: Callable[[str], Q]) -> tuple[dict[Hashable, R], dict[str, Q]]:
        """Run everything in ``lanes`` threads; returns ({prerequisite: outcome},
        {page: outcome}). ``prerequisite`` should not raise (report a failure in its outcome:
        the pages that need it then compute it themselves); ``page`` raising stops its chain
        and is re-raised when the lanes are done."""
        done_pre: dict[Hashable, R] = {}
        done_pages: dict[str, Q] = {}
        errors: list[BaseException] = []

        def lane() -> None:
            while True:
                with self.cond:
                    task = self._next()
                    while task is None and not self._done():
                        self.cond.wait()
                        task = self._next()
                    if task is None:
                        return
                try:
                    if task.page is None:
                        done_pre[task.name] = prerequisite(task.name)
                    else:
                        done_pages[task.page] = page(task.page)
                except BaseException as err:    # noqa: BLE001 - re-raised below
                    errors.append(err)
                    if task.page is not None:   # the rest of its chain is not run
                        with self.cond:
                            self.chains[task.chain].clear()
                finally:
                    with self.cond:
                        self.busy.discard(task.chain)
                        self.finished.add(task.name)
                        self.cond.notify_all()

        threads = [threading.Thread(target=lane, name=f"lane-{i + 1}", daemon=True)
                   for i in range(max(1, lanes))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return done_pre, done_pages


__all__ = ["Schedule", "Task"]
