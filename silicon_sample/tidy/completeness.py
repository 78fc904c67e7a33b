"""Is a run finished? Analyses of a run with pending cells are refused unless asked for, and then say so.

:func:`require_complete` is called by every analysis of a run (export, results, compare, rank, bayes,
drift): a run with cells still pending (an interrupted run, or one still running) is refused with the
way to finish it, unless ``allow_incomplete``; then :func:`mark_pending` adds a ``cells_pending`` column
to every table — the pending cells of each model × persona style × cue type (or of the run, for a table
not by pair) — so no figure computed from part of a run is read as if from all of it.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..answers import PENDING
from ..errors import RunStoreError
from ..store.run_store import RunStore
from .results import PAIR_COLUMNS


def pending_by_pair(run: RunStore | str | Path) -> pd.Series:
    """Pending cells per pair (:data:`~silicon_sample.tidy.results.PAIR_COLUMNS`: model, persona_style, cue_type,
    perturbation), pairs with none included (0)."""
    store = run if isinstance(run, RunStore) else RunStore.open(run)
    columns = {row[1] for row in store.db.execute("PRAGMA table_info(cells)")}
    perturbation = "c.perturbation" if "perturbation" in columns else "'original'"
    frame = pd.read_sql_query(
        f"SELECT c.model_id AS model, c.persona_style, c.cue_type, {perturbation} AS perturbation, "
        "SUM(r.cell_id IS NULL) AS pending FROM cells c LEFT JOIN responses r USING (cell_id) GROUP BY 1, 2, 3, 4",
        store.db)
    return frame.set_index(list(PAIR_COLUMNS))["pending"].astype(int)


def require_complete(run: RunStore | str | Path, allow_incomplete: bool = False) -> pd.Series:
    """Refuse a run with pending cells unless ``allow_incomplete``; return :func:`pending_by_pair`."""
    store = run if isinstance(run, RunStore) else RunStore.open(run)
    pending = pending_by_pair(store)
    if pending.sum() and not allow_incomplete:
        total = int(store.db.execute("SELECT COUNT(*) FROM cells").fetchone()[0])
        raise RunStoreError(f"the run is not finished: {int(pending.sum())} of {total} cells are {PENDING}",
                            where=str(store.dir),
                            fix=f"finish it with `silicon-sample resume {store.dir}`, or pass --allow-incomplete "
                                "(allow_incomplete=True) to analyse the answered cells; every table then has a "
                                "cells_pending column")
    return pending


def mark_pending(table: pd.DataFrame, pending: pd.Series) -> pd.DataFrame:
    """``table`` with a ``cells_pending`` column when the run has pending cells (unchanged otherwise): by pair
    when the table has the pair's columns or index levels, else the run's total. ``pending`` may carry a
    ``run`` level first (several runs): then the table's ``run`` level or column is matched too."""
    if not int(pending.sum()):
        return table
    levels = list(pending.index.names)
    flat = table.reset_index() if any(n in levels for n in table.index.names) else table
    if all(c in flat.columns for c in levels):
        keys = pd.MultiIndex.from_frame(flat[levels])
        values = pending.reindex(keys).fillna(0).astype(int).to_numpy()
    else:
        values = int(pending.sum())
    return table.assign(cells_pending=values)


__all__ = ["mark_pending", "pending_by_pair", "require_complete"]
