"""Aging features: the account's delinquency as it stood at an as-of date (DESIGN.md §3).

Read from :func:`recovery.timeline.aging.account_states` at the as-of date (DPD,
bucket, status, balance, overdue amount, debt age, worst DPD) and at the month ends
before it (months in each bucket over the last 3, 6 and 12 month ends), from
:func:`recovery.timeline.aging.episodes` (first delinquency, past payment cures) and
from the schedule in force. The features are those of the catalogue in group
``aging`` and ``paid_to_due_ratio`` (:mod:`~recovery.timeline.catalogue`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.docstrings import fill_doc, register
from recovery.timeline.account_features import account_rows, months_on_book
from recovery.timeline.aging import AgingLedger, account_states, episodes
from recovery.timeline.catalogue import BUCKET_WINDOWS_MONTHS, bucket_slug
from recovery.timeline.days import (
    DAYS_PER_MONTH,
    day_numbers,
    month_numbers,
    to_dates,
    to_datetimes,
)
from recovery.timeline.events import Events, PairColumns, Pairs
from recovery.timeline.known_at import known_at_as_of

__all__ = ["aging_features", "aging_columns", "history_month_ends"]

# The book of the docstring examples of the ledger features: two loans of two monthly
# installments of 100; A pays the first on time, B pays 60 of it ten days late.
register(
    two_loans_example="""\
>>> sched = pd.DataFrame({"account_id": ["A", "A", "B", "B"], "installment_no": [1, 2] * 2,
...     "due_date": pd.to_datetime(["2024-01-31", "2024-02-29"] * 2), "amount_due": 100.0})
>>> acc = pd.DataFrame({"account_id": ["A", "B"], "principal": 200.0,
...     "origination_date": pd.to_datetime(["2024-01-01", "2024-01-01"])})
>>> pays = pd.DataFrame({"account_id": ["A", "B"], "amount": [100.0, 60.0],
...     "payment_date": pd.to_datetime(["2024-01-31", "2024-02-10"]), "channel": "cash"})
>>> pf = Portfolio(accounts=acc, schedule=sched, payments=pays)"""
)


def _last_month_end(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The last month end on or before each date."""
    dates = pd.DatetimeIndex(dates).normalize()
    return dates.where(dates.is_month_end, dates - pd.offsets.MonthEnd(1))


def history_month_ends(days: np.ndarray, n_months: int) -> pd.DatetimeIndex:
    """Month ends covering the ``n_months`` month ends up to each date.

    Parameters
    ----------
    days : numpy.ndarray
        Day numbers (:func:`~recovery.timeline.days.day_numbers`) of the as-of dates.
    n_months : int
        Month ends wanted up to each date (the date's own, when it is one, included).

    Returns
    -------
    pandas.DatetimeIndex
        Every month end from the earliest needed to the last on or before the latest
        date.

    Examples
    --------
    >>> list(history_month_ends(day_numbers(["2024-03-15", "2024-04-30"]), 2).strftime("%m-%d"))
    ['01-31', '02-29', '03-31', '04-30']
    """
    last = _last_month_end(to_dates(np.unique(days)))
    return pd.date_range(last.min() - pd.offsets.MonthEnd(n_months - 1), last.max(), freq="ME")


@fill_doc
def aging_features(
    portfolio: Portfolio,
    pairs: pd.DataFrame,
    config: Config | None = None,
    states: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Aging features of each pair, from :func:`recovery.timeline.aging.account_states`.

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``accounts``, ``schedule``, ``payments``.
    pairs : pandas.DataFrame
        Columns ``account_id``, ``as_of``.
    config : Config, optional
    states : pandas.DataFrame, optional
        Precomputed ``account_states`` of the pairs' accounts at the as_of dates and at
        the 12 month ends before each (computed when not given).

    Returns
    -------
    pandas.DataFrame
        One row per pair: the aging features and ``paid_to_due_ratio``.

    Examples
    --------
    {{two_loans_example}}
    >>> q = pd.DataFrame({"account_id": ["A", "B"], "as_of": pd.Timestamp("2024-02-15")})
    >>> aging_features(pf, q)[["account_id", "dpd", "bucket", "amount_overdue", "months_in_m1_3m"]]
      account_id   dpd bucket  amount_overdue  months_in_m1_3m
    0          A   0.0     M0             0.0              0.0
    1          B  15.0     M1            40.0              0.0
    """
    config = config or Config()
    return known_at_as_of(aging_columns, portfolio, pairs, config, states=states).frame()


def aging_columns(
    portfolio: Portfolio,
    pairs: pd.DataFrame,
    config: Config,
    states: pd.DataFrame | None,
    ledger: AgingLedger | None = None,
) -> PairColumns:
    """The aging features of pairs as :class:`~recovery.timeline.events.PairColumns`.

    The vectorised core of :func:`aging_features` (same parameters, ``config``
    required; one row per pair, in order: the aging features and
    ``paid_to_due_ratio``). It counts every recorded payment reversal:
    :func:`aging_features` runs it through
    :func:`~recovery.timeline.known_at.known_at_as_of`. ``ledger``: the aging ledger of
    ``portfolio`` built once (:func:`recovery.timeline.aging.aging_ledger`), read for
    the states and the episodes instead of building it (same results).
    """
    p = Pairs.of(pairs)
    out = PairColumns(p.frame)
    n_hist = max(BUCKET_WINDOWS_MONTHS)
    month_ends = history_month_ends(p.days, n_hist)
    if states is None:
        dates = sorted(set(month_ends) | set(to_dates(np.unique(p.days))))
        states = account_states(portfolio, dates, config, ledger=ledger)
    st = states
    row = p.rows_in(st)  # exact match of (account, as_of)
    miss = row < 0
    safe_row = np.maximum(row, 0)

    def col(name, fill=np.nan):
        source = st[name]
        if isinstance(source.dtype, pd.CategoricalDtype):
            source = source.astype(object)
        v = source.to_numpy()[safe_row] if len(st) else np.full(len(row), fill, dtype=object)
        if miss.any():
            if v.dtype.kind in "iub":
                v = v.astype("float64")
            elif v.dtype.kind not in "fMO":
                v = v.astype(object)
            v[miss] = np.datetime64("NaT") if v.dtype.kind == "M" else fill
        return v

    out["dpd"] = col("dpd").astype("float64")
    out["bucket"] = pd.Categorical(col("bucket", None), categories=list(config.aging.bucket_names))
    out["status"] = pd.Categorical(col("status", None), categories=list(config.categories.statuses))
    out["balance"] = col("balance").astype("float64")
    out["amount_overdue"] = col("amount_overdue").astype("float64")
    out["debt_age_days"] = pd.to_numeric(pd.Series(col("debt_age_days")), errors="coerce").to_numpy(
        dtype="float64"
    )
    out["worst_dpd"] = pd.to_numeric(pd.Series(col("worst_dpd_to_date")), errors="coerce").to_numpy(
        dtype="float64"
    )
    co = day_numbers(col("charge_off_date"))
    out["months_since_charge_off"] = np.where(
        (co >= 0) & (co <= p.days), (p.days - co) / DAYS_PER_MONTH, np.nan
    )
    due = col("amount_due_to_date").astype("float64")
    paid = col("paid_to_date").astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["paid_to_due_ratio"] = np.where(due > 0, paid / due, np.nan)
    # accounts: months on book and share repaid
    if portfolio.accounts is not None:
        acc, aidx = account_rows(portfolio.accounts, out["account_id"])
        principal = np.where(
            aidx >= 0, acc["principal"].to_numpy(dtype="float64")[np.maximum(aidx, 0)], np.nan
        )
        out["months_on_book"] = months_on_book(acc, aidx, out["as_of"])
        with np.errstate(invalid="ignore", divide="ignore"):
            out["share_principal_repaid"] = 1.0 - np.asarray(out["balance"]) / principal
    else:
        out["months_on_book"] = np.nan
        out["share_principal_repaid"] = np.nan
    sched = p.schedule(portfolio.schedule).at(p.codes, p.days)
    out["installments_remaining"] = sched["installments_remaining"].to_numpy()
    out["installment_amount"] = sched["installment_amount"].to_numpy()
    # episodes: first delinquency and past payment cures known by as_of
    ep = episodes(portfolio, config, ledger=ledger)
    ecode = p.code(ep["account_id"])
    ok = ecode >= 0
    start_ev = Events(ecode[ok], day_numbers(ep["start_date"])[ok])
    first = start_ev.start(p.codes)
    has = (first < len(start_ev)) & (start_ev.window(None, p.codes, p.days, None) > 0)
    first_day = start_ev.days[np.minimum(first, max(len(start_ev) - 1, 0))] if len(start_ev) else 0
    out["months_since_first_delinquency"] = np.where(
        has, (p.days - first_day) / DAYS_PER_MONTH, np.nan
    )
    cured = ok & (ep["end_reason"].astype(str).to_numpy() == "payment_cure")
    end_day = day_numbers(ep["end_date"])
    cure_ev = Events(ecode[cured], end_day[cured])
    out["past_cures"] = cure_ev.window(None, p.codes, p.days, None)
    # month-end buckets in the last 3/6/12 month ends
    _months_in_bucket(out, st, p, config, n_hist)
    return out


def _months_in_bucket(
    out: PairColumns,
    states: pd.DataFrame,
    p: Pairs,
    config: Config,
    n_hist: int,
    month_col: str = "as_of",
) -> None:
    """Count month ends in each bucket over the last 3/6/12 month ends (dense gather)."""
    dates = to_datetimes(states[month_col]).to_numpy(dtype="datetime64[D]")
    code = p.code(states["account_id"])
    keep = (code >= 0) & _is_month_end(dates)
    scode = code[keep]
    smonth = month_numbers(dates[keep])
    asof = p.frame["as_of"].to_numpy(dtype="datetime64[D]")
    # the last month end on or before as_of
    qmonth = month_numbers(asof) - (~_is_month_end(asof)).astype("int64")
    names = list(config.aging.bucket_names)
    bucket = states["bucket"]
    if isinstance(bucket.dtype, pd.CategoricalDtype) and list(bucket.cat.categories) == names:
        bidx = bucket.cat.codes.to_numpy()[keep].astype("int64")  # -1 = none
    else:
        bidx = pd.Categorical(bucket[keep], categories=names).codes.astype("int64")
    sub = bidx
    if len(sub):
        m0 = min(smonth.min(), qmonth.min() - n_hist)
        width = max(smonth.max(), qmonth.max()) - m0 + 1
    else:
        m0, width = qmonth.min() - n_hist, n_hist + 1
    grid = np.full((len(p.ids), width), -1, dtype="int8")
    grid[scode, smonth - m0] = bidx
    # month ends in each bucket per pair, one lag (latest month end first) at a time: a
    # pair has one bucket per lag, so its (pair, bucket) cell is incremented once at most
    n, nb = len(p.codes), len(names)
    cells = np.arange(n, dtype=np.int64) * nb
    counts = np.zeros(n * nb, dtype=np.int32)
    upto = {}  # months -> the counts over that many month ends, (pair, bucket)
    for lag in range(n_hist):
        b = grid[p.codes, qmonth - m0 - lag]
        has = b >= 0
        counts[cells[has] + b[has]] += 1
        if lag + 1 in BUCKET_WINDOWS_MONTHS:
            upto[lag + 1] = counts.copy()
    for b, name in enumerate(names):
        for months in BUCKET_WINDOWS_MONTHS:
            out[f"months_in_{bucket_slug(name)}_{months}m"] = upto[months][b::nb].astype("float64")


def _is_month_end(days: np.ndarray) -> np.ndarray:
    """Whether each datetime64[D] is the last day of its month."""
    month = days.astype("datetime64[M]")
    return ((days + 1).astype("datetime64[M]") != month) & ~np.isnat(days)
