"""Snapshot-only features: aging and payment features from a monthly table alone.

For a lender with only a monthly performance table (:mod:`recovery.data.performance`):
the features of the catalogue with mode ``snapshots`` (:mod:`~recovery.timeline.catalogue`),
read at month ends from an accounts × months grid of the ``snapshots`` rows known at
each as-of date, plus the account features when ``accounts`` is given.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.timeline.account_features import account_features, account_rows, months_on_book
from recovery.timeline.aging import overdue_pairs
from recovery.timeline.catalogue import (
    BUCKET_WINDOWS_MONTHS,
    SNAPSHOT_PAYMENT_WINDOWS_MONTHS,
    bucket_slug,
    feature_frame,
    feature_names,
)
from recovery.timeline.days import DAYS_PER_MONTH, day_numbers, month_numbers
from recovery.timeline.events import PairColumns, Pairs, as_pairs, pairs_table

__all__ = ["snapshot_features"]


def snapshot_features(
    snapshots: pd.DataFrame,
    as_of_dates: Any,
    config: Config | None = None,
    accounts: pd.DataFrame | None = None,
    include_protected: bool = False,
) -> pd.DataFrame:
    """Aging and payment features from a monthly ``snapshots`` table alone.

    For a lender with only a monthly performance table. Features are those of
    :func:`~recovery.timeline.catalogue.feature_catalogue` with mode ``snapshots``: the aging features read at month
    ends (``worst_dpd`` and ``past_cures`` see month ends only) and payment features
    from ``paid_in_month``. Only snapshot rows dated on or before each as_of are used.
    DPD read from a status code is an estimate (the middle of the code's band,
    :mod:`recovery.data.performance`), and so are ``dpd`` and ``worst_dpd``; the bucket
    features are exact. A status-only history (no balances, no payments) leaves the
    amount and payment features missing (NaN), never 0.

    Parameters
    ----------
    snapshots : pandas.DataFrame
        The ``snapshots`` table (account × month end).
    as_of_dates : date, list of dates, or DataFrame of ``account_id, as_of`` pairs
        Month ends to score; dates give every overdue account (open with DPD > 0, or
        charged off) at each.
    config : Config, optional
    accounts : pandas.DataFrame, optional
        The ``accounts`` table, for months on book and account features.
    include_protected : bool
        Keep protected attributes among the account features.

    Returns
    -------
    pandas.DataFrame
        ``account_id, as_of`` and the snapshot-mode features, sorted by account_id,
        as_of; dtypes as in :func:`~recovery.timeline.features.build_features`.

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": "A",
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"]),
    ...     "dpd": [0, 20, 50], "bucket": ["M0", "M1", "M2"], "balance": 500.0,
    ...     "amount_overdue": [0.0, 100.0, 200.0], "paid_in_month": [100.0, 0.0, 0.0],
    ...     "status": "open"})
    >>> f = snapshot_features(snaps, ["2024-03-31"])
    >>> f[["dpd", "months_in_m1_3m", "months_since_last_payment", "paid_amount_3m"]]
        dpd  months_in_m1_3m  months_since_last_payment  paid_amount_3m
    0  50.0              1.0                        2.0           100.0
    """
    config = config or Config()
    snaps = snapshots.copy()
    snaps["account_id"] = snaps["account_id"].astype(str)
    snaps["month_end"] = pd.to_datetime(snaps["month_end"]).dt.normalize()
    request = as_pairs(as_of_dates)
    if isinstance(request, pd.DataFrame):
        pairs = pairs_table(request, text_ids=True)
    else:
        rows = snaps[snaps["month_end"].isin(request)].rename(columns={"month_end": "as_of"})
        pairs = overdue_pairs(rows, config)
    p = Pairs.of(pairs)
    out = PairColumns(p.frame)
    scode = p.code(snaps["account_id"])
    snaps = snaps[scode >= 0].reset_index(drop=True)
    scode = scode[scode >= 0]
    smonth = month_numbers(snaps["month_end"])
    asof = pd.DatetimeIndex(out["as_of"])
    qmonth = month_numbers(asof) - (~asof.is_month_end).astype("int64")
    n_hist = max(BUCKET_WINDOWS_MONTHS)
    m0 = min(smonth.min() if len(smonth) else qmonth.min(), qmonth.min() - n_hist)
    width = max(smonth.max() if len(smonth) else qmonth.max(), qmonth.max()) - m0 + 1
    n = len(p.ids)

    def dense(values, fill, dtype):
        g = np.full((n, width), fill, dtype=dtype)
        g[scode, smonth - m0] = values
        return g

    col0 = qmonth - m0
    have = dense(True, False, bool)
    here = have[p.codes, col0]

    def at(grid):
        v = grid[p.codes, col0].astype("float64")
        return np.where(here, v, np.nan)

    dpd = dense(snaps["dpd"].to_numpy(dtype="float64"), np.nan, "float64")
    out["dpd"] = at(dpd)
    names = list(config.aging.bucket_names)
    bcode = pd.Categorical(snaps["bucket"], categories=names).codes
    bgrid = dense(bcode, -1, "int8")
    out["bucket"] = pd.Categorical.from_codes(
        np.where(here, bgrid[p.codes, col0], -1), categories=names
    )
    statuses = list(config.categories.statuses)
    sgrid = dense(pd.Categorical(snaps["status"], categories=statuses).codes, -1, "int8")
    out["status"] = pd.Categorical.from_codes(
        np.where(here, sgrid[p.codes, col0], -1), categories=statuses
    )
    for c in ("balance", "amount_overdue"):  # missing in a status-only history
        values = snaps[c].to_numpy(dtype="float64") if c in snaps else np.nan
        out[c] = at(dense(values, np.nan, "float64"))
    if "debt_age_days" in snaps:
        age = pd.to_numeric(snaps["debt_age_days"], errors="coerce").to_numpy(dtype="float64")
        out["debt_age_days"] = at(dense(age, np.nan, "float64"))
    else:
        out["debt_age_days"] = np.nan
    # history up to as_of: running values along the months of each account (an
    # accounts × months grid), read at the as_of column
    cols = np.arange(width)[None, :]
    worst = np.fmax.accumulate(dpd, axis=1)
    out["worst_dpd"] = at(worst)
    delinquent = np.nan_to_num(dpd, nan=0.0) > 0
    first_bad = np.where(delinquent.any(axis=1), delinquent.argmax(axis=1), width)[p.codes]
    out["months_since_first_delinquency"] = np.where(
        first_bad <= col0, col0 - first_bad, np.nan
    ).astype("float64")
    cure_state = (np.nan_to_num(dpd, nan=-1.0) == 0) & np.isin(
        sgrid, [statuses.index("open"), statuses.index("paid_off")]
    )
    cure_state[:, 1:] &= delinquent[:, :-1]
    cure_state[:, 0] = False
    out["past_cures"] = np.cumsum(cure_state, axis=1)[p.codes, col0].astype("float64")
    if "charge_off_date" in snaps:
        co_at = dense(day_numbers(snaps["charge_off_date"]), -1, "int64")[p.codes, col0]
        out["months_since_charge_off"] = np.where(
            here & (co_at >= 0) & (co_at <= p.days), (p.days - co_at) / DAYS_PER_MONTH, np.nan
        )
    else:
        charged = sgrid == statuses.index("charged_off")
        first_co = np.where(charged.any(axis=1), charged.argmax(axis=1), width)[p.codes]
        out["months_since_charge_off"] = np.where(first_co <= col0, col0 - first_co, np.nan).astype(
            "float64"
        )
    if accounts is not None and "origination_date" in accounts:
        acc, aidx = account_rows(accounts, out["account_id"])
        out["months_on_book"] = months_on_book(acc, aidx, asof)
    else:
        first_seen = np.where(have.any(axis=1), have.argmax(axis=1), width)[p.codes]
        out["months_on_book"] = np.where(first_seen <= col0, col0 - first_seen, np.nan).astype(
            "float64"
        )
    for months in BUCKET_WINDOWS_MONTHS:
        for b, name in enumerate(names):
            hits = np.zeros(len(p.codes))
            for lag in range(months):
                hits += bgrid[p.codes, col0 - lag] == b
            out[f"months_in_{bucket_slug(name)}_{months}m"] = hits
    # payments; a status-only history has none: the payment features are missing, not 0
    payments = "paid_in_month" in snaps
    paid_in = snaps["paid_in_month"].to_numpy(dtype="float64") if payments else 0.0
    paid = dense(paid_in, 0.0, "float64")
    last_paid = np.maximum.accumulate(np.where(paid > 0, cols, -1), axis=1)[p.codes, col0]
    unknown = np.nan if not payments else 0.0
    out["months_since_last_payment"] = np.where(last_paid >= 0, col0 - last_paid, np.nan).astype(
        "float64"
    )
    for months in SNAPSHOT_PAYMENT_WINDOWS_MONTHS:
        amount = np.zeros(len(p.codes))
        count = np.zeros(len(p.codes))
        for lag in range(months):
            v = paid[p.codes, col0 - lag]
            amount += v
            count += v > 0
        out[f"paid_amount_{months}m"] = amount + unknown
        out[f"months_with_payment_{months}m"] = count + unknown
    if accounts is not None:
        acc_feats = account_features(Portfolio(accounts=accounts), pairs, config, include_protected)
        for c in acc_feats.columns[2:]:
            out[c] = acc_feats[c].to_numpy()
    names_out = [c for c in feature_names(config, include_protected, mode="snapshots") if c in out]
    return feature_frame({c: out[c] for c in ["account_id", "as_of", *names_out]}, config)
