"""The :class:`Portfolio`: a lender's tables, held together.

Examples
--------
>>> import pandas as pd
>>> from recovery.data.portfolio import Portfolio
>>> p = Portfolio(snapshots=pd.DataFrame({"account_id": ["A1"],
...     "month_end": pd.to_datetime(["2024-01-31"])}))
>>> p.table_names()
['snapshots']
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd

__all__ = ["Portfolio", "TABLE_ORDER"]

TABLE_ORDER = (
    "accounts",
    "schedule",
    "payments",
    "actions",
    "agents",
    "assignments",
    "events",
    "offers",
    "snapshots",
)

_DATE_COLUMNS = {
    "accounts": ("origination_date",),
    "schedule": ("due_date", "effective_from"),
    "payments": ("payment_date", "reversed_date"),
    "actions": ("promise_date",),
    "agents": ("hire_date",),
    "assignments": ("start_date", "end_date"),
    "events": ("date",),
    "offers": ("offered_at", "outcome_date", "result_date"),
    "snapshots": ("month_end", "charge_off_date"),
}


@dataclass
class Portfolio:
    """A lender's event tables (and/or monthly snapshots), one DataFrame each.

    Any table may be ``None`` (absent). A ledger portfolio has at least
    ``accounts``, ``schedule`` and ``payments``; a snapshot-only portfolio (a lender
    with only a monthly performance table) has ``snapshots`` and optionally
    ``accounts``. Columns follow DESIGN.md §2 (see :mod:`recovery.data.schema`).

    Attributes
    ----------
    accounts, schedule, payments, actions, agents, assignments, events, offers, snapshots
        The tables (``offers``: payment plans, settlements and deferrals proposed).
    meta : dict
        Extract metadata; ``data_end`` (ISO date) is the last day the data covers.
    """

    accounts: pd.DataFrame | None = None
    schedule: pd.DataFrame | None = None
    payments: pd.DataFrame | None = None
    actions: pd.DataFrame | None = None
    agents: pd.DataFrame | None = None
    assignments: pd.DataFrame | None = None
    events: pd.DataFrame | None = None
    offers: pd.DataFrame | None = None
    snapshots: pd.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def table_names(self) -> list[str]:
        """Names of the tables present, in contract order."""
        return [n for n in TABLE_ORDER if getattr(self, n) is not None]

    def tables(self) -> dict[str, pd.DataFrame]:
        """The present tables as ``{name: DataFrame}``."""
        return {n: getattr(self, n) for n in self.table_names()}

    @property
    def data_end(self) -> pd.Timestamp:
        """Last day the data covers.

        ``meta['data_end']`` when set (the simulator and :func:`recovery.data.io.save_portfolio`
        record it); otherwise the latest observed date — payments, actions, events,
        snapshots — since due dates in ``schedule`` lie in the future of the extract.
        """
        if self.meta.get("data_end"):
            return pd.Timestamp(self.meta["data_end"])
        observed = []
        for name, df in self.tables().items():
            if name == "schedule" or not len(df):
                continue
            columns = [*_DATE_COLUMNS.get(name, ()), *(("ts",) if name == "actions" else ())]
            for col in columns:
                if col in df and df[col].notna().any():
                    observed.append(pd.to_datetime(df[col]).max().normalize())
        if not observed:
            raise ValueError("portfolio has no observed dates; set meta['data_end']")
        return max(observed)

    def subset(self, account_ids: Iterable[str]) -> Portfolio:
        """The same portfolio restricted to some accounts (a partition).

        Agent-level tables (``agents``) are kept whole.
        """
        ids = pd.Index(pd.unique(pd.Series(list(account_ids), dtype=object)))
        out = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "meta":
                out["meta"] = dict(value)
            elif value is None or f.name == "agents":
                out[f.name] = value
            else:
                out[f.name] = value[value["account_id"].isin(ids)].reset_index(drop=True)
        return Portfolio(**out)

    def copy(self) -> Portfolio:
        """Deep copy of every table."""
        out = {
            f.name: (getattr(self, f.name).copy() if getattr(self, f.name) is not None else None)
            for f in fields(self)
            if f.name != "meta"
        }
        return Portfolio(**out, meta=dict(self.meta))

    def __repr__(self) -> str:
        parts = [f"{n}={len(df):,}" for n, df in self.tables().items()]
        return f"Portfolio({', '.join(parts)})"
