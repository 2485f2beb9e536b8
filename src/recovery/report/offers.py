"""The report's "Offers and plans" section: offers made, accepted, kept, broken, and what
the accounts under an offer paid this month against collecting as usual.

Shown only when the book has an ``offers`` table (:func:`has_offers`).

- **made**: offers made in the month, by kind; **accepted**: of those, accepted (the
  acceptance rate over the offers made);
- **kept** / **broken**: accepted offers whose result (completed, broken) fell in the
  month; **running**: accepted offers without a result at the month end;
- **collected**: payments in the month (reversals excluded) on the accounts with an
  accepted offer running at the start of the month or accepted in it;
- **as usual**: what the same accounts were expected to pay in the month without an
  offer — their balance at the previous month end × the first month of their segment's
  collections curve (:class:`recovery.operations.offer_value.UsualCollections`, fitted on
  the months before); **against usual** = collected − as usual.

Examples
--------
>>> import pandas as pd
>>> offers = pd.DataFrame({"account_id": ["A"], "kind": ["settlement"],
...     "offered_at": pd.to_datetime(["2024-03-05"]), "outcome": ["accepted"]})
>>> int(offer_counts(offers, pd.Timestamp("2024-03-31")).loc["settlement", "made"])
1
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recovery.analytics.partitions import PartitionedSnapshots
from recovery.config import Config
from recovery.operations.offer_rules import stage_of
from recovery.operations.offer_value import UsualCollections
from recovery.report.formatting import format_count, format_pct

__all__ = [
    "has_offers",
    "offer_counts",
    "offers_month",
    "offers_notes",
    "offers_table",
    "OFFER_KIND_WORDS",
]

#: Offer kinds in words (table rows).
OFFER_KIND_WORDS = {
    "settlement": "Settlements",
    "payment_plan": "Payment plans",
    "deferral": "Deferrals",
    "all": "All offers",
}


def has_offers(data: Any) -> bool:
    """The report's book has an ``offers`` table with at least one offer."""
    offers = getattr(data.portfolio, "offers", None)
    return offers is not None and len(offers) > 0


def _in_month(dates: pd.Series, month: pd.Timestamp) -> np.ndarray:
    d = pd.to_datetime(dates).dt.normalize()
    start = month - pd.offsets.MonthBegin(1)
    return ((d >= start) & (d <= month)).to_numpy()


def offer_counts(offers: pd.DataFrame, month: pd.Timestamp) -> pd.DataFrame:
    """Offers made, accepted, kept, broken in the month and running at its end, by kind.

    Parameters
    ----------
    offers : pandas.DataFrame
        The ``offers`` table.
    month : Timestamp
        The month end.

    Returns
    -------
    pandas.DataFrame
        Index: kinds present and ``all``; columns ``made, accepted, acceptance_rate,
        kept, broken, running``.
    """
    month = pd.Timestamp(month).normalize()
    o = offers.reset_index(drop=True)
    kind = o["kind"].astype(object)
    accepted = o["outcome"].astype(object).eq("accepted").to_numpy()
    made = _in_month(o["offered_at"], month)
    result = (
        o["result"].astype(object)
        if "result" in o
        else pd.Series(None, index=o.index, dtype=object)
    )
    result_date = (
        pd.to_datetime(o["result_date"]) if "result_date" in o else pd.Series(pd.NaT, index=o.index)
    )
    answered = pd.to_datetime(o["outcome_date"]) if "outcome_date" in o else None
    start = (
        pd.to_datetime(o["offered_at"])
        if answered is None
        else answered.fillna(pd.to_datetime(o["offered_at"]))
    )
    ended = _in_month(result_date, month)
    frame = pd.DataFrame(
        {
            "kind": kind,
            "made": made,
            "accepted": made & accepted,
            "kept": accepted & ended & result.eq("completed").to_numpy(),
            "broken": accepted & ended & result.eq("broken").to_numpy(),
            "running": accepted
            & (start.dt.normalize() <= month).to_numpy()
            & (result_date.isna() | (result_date > month)).to_numpy(),
        }
    )
    by = frame.groupby("kind")[["made", "accepted", "kept", "broken", "running"]].sum()
    by.loc["all"] = by.sum()
    by["acceptance_rate"] = by["accepted"] / by["made"].where(by["made"] > 0)
    return by[["made", "accepted", "acceptance_rate", "kept", "broken", "running"]]


def _under_offer(offers: pd.DataFrame, month: pd.Timestamp) -> pd.Index:
    """Accounts with an accepted offer running at the start of the month or accepted in it."""
    start = month - pd.offsets.MonthBegin(1)
    o = offers[offers["outcome"].astype(object) == "accepted"]
    accepted_on = pd.to_datetime(o["outcome_date"]) if "outcome_date" in o else None
    on = (
        pd.to_datetime(o["offered_at"])
        if accepted_on is None
        else accepted_on.fillna(pd.to_datetime(o["offered_at"]))
    )
    ends = (
        pd.to_datetime(o["result_date"]) if "result_date" in o else pd.Series(pd.NaT, index=o.index)
    )
    live = (on.dt.normalize() <= month) & (ends.isna() | (ends >= start))
    return pd.Index(o.loc[live, "account_id"].astype(str).unique())


def _usual_columns(part: pd.DataFrame) -> pd.DataFrame:
    cols = ["account_id", "month_end", "dpd", "status", "balance", "paid_in_month"]
    return part[[c for c in cols if c in part]]


def offers_month(
    portfolio: Any,
    snapshots: pd.DataFrame | PartitionedSnapshots,
    month: Any,
    config: Config | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """The section's numbers: :func:`offer_counts` and the month's value against usual.

    ``snapshots`` may be a table or its parts (:class:`PartitionedSnapshots`, as
    ``recovery report`` passes them); of parts, only the columns the collection curves
    read are gathered.

    Returns
    -------
    tuple
        The counts table and ``{"accounts", "collected", "as_usual", "against_usual"}``
        (currency) for the accounts under an offer.
    """
    config = config or Config()
    month = pd.Timestamp(month).normalize()
    offers = portfolio.offers
    counts = offer_counts(offers, month)
    accounts = _under_offer(offers, month)
    previous = (month - pd.offsets.MonthEnd(1)).normalize()
    if isinstance(snapshots, PartitionedSnapshots):
        # the curves need every account's months: the few columns they read, part by part
        snapshots = snapshots.concat(_usual_columns)
    snaps = snapshots.assign(month_end=pd.to_datetime(snapshots["month_end"]).dt.normalize())
    before = snaps[snaps["month_end"] <= previous]
    value = {"accounts": float(len(accounts)), "collected": 0.0, "as_usual": np.nan}
    pay = portfolio.payments
    if pay is not None and len(accounts):
        mine = pay[pay["account_id"].astype(str).isin(accounts)]
        in_month = _in_month(mine["payment_date"], month)
        if "reversed_date" in mine:
            rev = pd.to_datetime(mine["reversed_date"])
            in_month &= (rev.isna() | (rev > month)).to_numpy()
        value["collected"] = float(mine.loc[in_month, "amount"].sum())
    if len(before) and len(accounts):
        usual = UsualCollections(config, min_rows=50).fit(before)
        state = before[before["month_end"] == previous]
        state = state[state["account_id"].astype(str).isin(accounts)]
        frame = pd.DataFrame(
            {
                "stage": stage_of(state["status"], state["dpd"], config),
                "debt_age_days": pd.to_numeric(state["dpd"], errors="coerce").to_numpy(),
                "balance": np.maximum(pd.to_numeric(state["balance"], errors="coerce"), 0.0),
            }
        )
        first = usual.share(frame)[:, 1]  # the first month is not discounted
        value["as_usual"] = float((frame["balance"].to_numpy() * first).sum())
    value["against_usual"] = value["collected"] - value["as_usual"]
    return counts, value


def offers_notes(counts: pd.DataFrame, value: dict[str, float], month_name: str) -> list[str]:
    """The section's sentences, from its numbers.

    Examples
    --------
    >>> c = pd.DataFrame({"made": [10], "accepted": [4], "acceptance_rate": [0.4],
    ...     "kept": [2], "broken": [1], "running": [5]}, index=["all"])
    >>> offers_notes(c, {"accounts": 6.0, "collected": 900.0, "as_usual": 600.0,
    ...     "against_usual": 300.0}, "March 2024")[0]
    'In March 2024, 10 offers were made and 4 accepted (40.0%); 2 were kept to the end and 1 broken; 5 are running.'
    """
    total = counts.loc["all"]
    rate = total["acceptance_rate"]
    rate_words = "" if pd.isna(rate) else f" ({rate:.1%})"
    notes = [
        f"In {month_name}, {int(total['made']):,} offers were made and "
        f"{int(total['accepted']):,} accepted{rate_words}; {int(total['kept']):,} were kept "
        f"to the end and {int(total['broken']):,} broken; {int(total['running']):,} are running."
    ]
    if value["accounts"] > 0 and not pd.isna(value["as_usual"]):
        diff = value["against_usual"]
        direction = "more" if diff >= 0 else "less"
        notes.append(
            f"The {int(value['accounts']):,} accounts under an offer paid "
            f"{value['collected']:,.0f} this month, {abs(diff):,.0f} {direction} than "
            f"expected from them without an offer ({value['as_usual']:,.0f}, from the "
            "collections of accounts like them in earlier months)."
        )
    return notes


def offers_table(counts: pd.DataFrame) -> pd.DataFrame:
    """:func:`offer_counts` for people: kinds and headings in words, numbers formatted.

    Examples
    --------
    >>> c = pd.DataFrame({"made": [3], "accepted": [1], "acceptance_rate": [1 / 3],
    ...     "kept": [0], "broken": [0], "running": [1]}, index=["all"])
    >>> offers_table(c).iloc[0].tolist()
    ['All offers', '3', '1', '33.3%', '0', '0', '1']
    """
    order = [k for k in OFFER_KIND_WORDS if k in counts.index]
    c = counts.loc[order]
    return pd.DataFrame(
        {
            "Offer": [OFFER_KIND_WORDS[k] for k in order],
            "Made": [format_count(v) for v in c["made"]],
            "Accepted": [format_count(v) for v in c["accepted"]],
            "Acceptance rate": [format_pct(v) for v in c["acceptance_rate"]],
            "Kept to the end": [format_count(v) for v in c["kept"]],
            "Broken": [format_count(v) for v in c["broken"]],
            "Running at month end": [format_count(v) for v in c["running"]],
        }
    )
