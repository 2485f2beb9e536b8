"""Roll-rate (Markov) forecasts of the delinquent book, and backtests of forecasts.

:class:`RollRateForecaster` projects the delinquent buckets (M1 … M7+ of
``config.aging``) 1–12 months ahead from the transition matrices of the most recent
months (DESIGN.md §3 roll rates, from :func:`recovery.analytics.states.transitions`):

* **counts**: ``n[h] = n[h-1] · P + inflow`` where ``P[i, j]`` is the pooled share
  of accounts in bucket *i* at *m* that are in state *j* at *m + 1* over the last
  ``lookback_months`` pairs of months;
* **balances**: ``b[h] = b[h-1] · T + inflow_balance`` where ``T[i, j]`` is the
  balance in state *j* at *m + 1* of the accounts that were in *i* at *m*, per unit of
  balance in *i* at *m* (so payments and amortisation between month ends are
  carried);
* **inflow** (the new-volume assumption, explicit): accounts entering a delinquent
  bucket from M0 or from outside the book (new loans) each month. By default the mean
  of the lookback months, or the last month, or a table the user gives;
* **gross charge-offs** are the flows into ``charged_off`` (count and balance at
  charge-off); **recoveries** on the recovery book come from an
  :class:`recovery.analytics.liquidation.ERCForecaster` (the collections forecast from ERC, plus
  the expected recoveries on the forecast new charge-offs) or, failing that, the
  recent monthly mean; **net charge-offs** = gross charge-off balance − recoveries.

Backtests (:func:`backtest_roll_rate`, :func:`backtest_erc`) fit on the data up to
an origin month *m* only, forecast, and compare with what happened;
:func:`forecast_errors` summarises MAPE and bias by horizon, with and without a window
(e.g. a regime shift): a forecast is *inside* the window when any month of
``(origin, target]`` falls in it.

Examples
--------
>>> import pandas as pd
>>> from recovery.analytics.forecast import RollRateForecaster
>>> snaps = pd.DataFrame({
...     "account_id": ["A", "B", "A", "B"],
...     "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
...     "dpd": [10, 40, 40, 0], "bucket": ["M1", "M2", "M2", "M0"],
...     "balance": [100.0, 50.0, 100.0, 50.0], "amount_overdue": [10.0, 20.0, 20.0, 0.0],
...     "paid_in_month": [0.0, 0.0, 0.0, 20.0], "status": ["open"] * 4})
>>> f = RollRateForecaster(lookback_months=1, new_volume="none").fit(snaps)
>>> f.predict_totals(1)["delinquent_count"].tolist()  # the M2 account cures (like B did)
[0.0]
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from recovery.analytics.common import month_end, month_number, plot_axes
from recovery.analytics.states import transitions
from recovery.config import Config
from recovery.data.contract import require_columns
from recovery.docstrings import fill_doc
from recovery.errors import DataError

__all__ = [
    "RollRateForecaster",
    "actual_totals",
    "backtest_roll_rate",
    "backtest_erc",
    "forecast_errors",
    "plot_backtest",
]

_EXITS = ("M0", "charged_off", "paid_off", "settled", "other_exit")
_MEASURES = (
    "delinquent_count",
    "delinquent_balance",
    "gross_charge_off_count",
    "gross_charge_off_balance",
    "recoveries",
    "net_charge_off_balance",
)


def _delinquent_states(config: Config) -> list[str]:
    return config.aging.bucket_labels()[1:]


class RollRateForecaster(BaseEstimator):
    """Markov forecast of delinquent bucket counts and balances and of charge-offs.

    Parameters
    ----------
    lookback_months : int
        Pairs of consecutive month ends (the latest ones) pooled into the transition
        matrices and the inflow assumption.
    new_volume : {"book_rate", "recent_mean", "last", "none"} or DataFrame
        Inflow of new delinquencies per forecast month. ``"book_rate"`` (default):
        the lookback months' inflow per account (and per unit of balance) in M0 at
        the start of the month, times the current book (M0 at the data end) grown at
        ``new_volume_growth``; ``"recent_mean"``: the mean inflow of the lookback
        months; ``"last"``: the last month's; ``"none"``; or an explicit table indexed
        by delinquent bucket with columns ``count`` and ``balance`` (currency) per month.
    new_volume_growth : float or "trend"
        Monthly growth of the inflow, linear from the data end (0.01 = +1 % of the
        starting inflow a month). ``"trend"`` (default) estimates it from the current
        book (M0 count and balance) over the lookback months: least-squares slope
        divided by the level at the data end.
    recoveries : {"recent_mean"} or ERCForecaster, optional
        How recoveries on charged-off debt are forecast: an (unfitted or fitted)
        :class:`recovery.analytics.liquidation.ERCForecaster`, refitted on the same data (without
        bootstrap unless its ``n_bootstrap`` is set: only the expected collections are
        used), or the recent monthly mean of recoveries. ``None``: no recoveries
        (net = gross).
    config : Config, optional
        Bucket labels (``config.aging``).

    Attributes
    ----------
    count_matrix_ : DataFrame
        ``P``: delinquent bucket (rows) → state (columns: buckets, M0, exits), rows sum
        to 1.
    balance_matrix_ : DataFrame
        ``T``: balance in the destination state at *m + 1* per unit of balance in the
        origin bucket at *m*.
    inflow_ : DataFrame
        Assumed monthly inflow by bucket (``count``, ``balance``).
    initial_ : DataFrame
        Counts and balances by delinquent bucket at the data end.
    recent_recoveries_ : float
        Mean monthly recoveries of the lookback months (currency).
    data_end_ : Timestamp
        Last month end of the fitted data.

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": ["A", "A", "A"],
    ...     "month_end": pd.date_range("2024-01-31", periods=3, freq="ME"),
    ...     "dpd": [10, 40, 70], "bucket": ["M1", "M2", "M3"],
    ...     "balance": [100.0, 100.0, 100.0], "amount_overdue": [10.0, 20.0, 30.0],
    ...     "paid_in_month": [0.0] * 3, "status": ["open"] * 3})
    >>> f = RollRateForecaster(lookback_months=2, new_volume="none").fit(snaps)
    >>> float(f.count_matrix_.loc["M1", "M2"]), float(f.count_matrix_.loc["M2", "M3"])
    (1.0, 1.0)
    """

    def __init__(
        self,
        lookback_months: int = 6,
        new_volume: Literal["book_rate", "recent_mean", "last", "none"]
        | pd.DataFrame = "book_rate",
        new_volume_growth: float | Literal["trend"] = "trend",
        recoveries=None,
        config: Config | None = None,
    ):
        self.lookback_months = lookback_months
        self.new_volume = new_volume
        self.new_volume_growth = new_volume_growth
        self.recoveries = recoveries
        self.config = config

    # ------------------------------------------------------------------ fitting

    def fit(
        self,
        snapshots: pd.DataFrame,
        y=None,
        *,
        data_end: pd.Timestamp | str | None = None,
        transition_table: pd.DataFrame | None = None,
    ):
        """Estimate the matrices, the inflow and the starting book at the data end.

        Parameters
        ----------
        snapshots : DataFrame
            The ``snapshots`` table; rows after ``data_end`` are ignored.
        y : ignored
        data_end : date, optional
            The forecast origin (default: the latest ``month_end``).
        transition_table : DataFrame, optional
            :func:`recovery.analytics.states.transitions` of ``snapshots`` when already
            computed (backtests reuse it across origins); pairs ending after
            ``data_end`` are dropped.

        Returns
        -------
        RollRateForecaster
            ``self``.
        """
        config = self.config or Config()
        if self.lookback_months < 1:
            raise DataError("lookback_months must be at least 1")
        require_columns(snapshots, ["balance"], "the roll-rate forecast of delinquent balances")
        s = snapshots
        me = pd.to_datetime(s["month_end"]).dt.normalize()
        end = pd.Timestamp(data_end) + pd.offsets.MonthEnd(0) if data_end is not None else me.max()
        s = s[me <= end]
        if s.empty:
            raise DataError(f"no snapshot rows on or before {end.date()}")
        t = transition_table if transition_table is not None else transitions(s, config)
        t = t[pd.to_datetime(t["next_month_end"]) <= end]
        starts = np.sort(pd.to_datetime(t["month_end"]).unique())[-self.lookback_months :]
        if len(starts) == 0:
            raise DataError("need at least two consecutive month ends to estimate roll rates")
        t = t[pd.to_datetime(t["month_end"]).isin(starts)]
        d = _delinquent_states(config)
        to_states = d + list(_EXITS)
        frm = t[t["from_state"].isin(d)]
        cnt = pd.crosstab(frm["from_state"], frm["to_state"]).reindex(
            index=d, columns=to_states, fill_value=0
        )
        bal = (
            frm.pivot_table(
                index="from_state", columns="to_state", values="next_balance", aggfunc="sum"
            )
            .reindex(index=d, columns=to_states)
            .fillna(0.0)
        )
        from_bal = frm.groupby("from_state")["balance"].sum().reindex(d).fillna(0.0)
        n_from = cnt.sum(axis=1)
        # a bucket never seen in the lookback stays where it is (no information to move it)
        p = cnt.div(n_from.where(n_from > 0), axis=0)
        tb = bal.div(from_bal.where(from_bal > 0), axis=0)
        for state in d:
            if n_from[state] == 0:
                p.loc[state] = 0.0
                p.loc[state, state] = 1.0
            if from_bal[state] == 0:
                tb.loc[state] = p.loc[state]
        self.count_matrix_ = p.fillna(0.0)
        self.balance_matrix_ = tb.fillna(0.0)
        # inflow: from M0 or new into a delinquent bucket, per start month
        inflow = t[t["from_state"].isin(["M0", "new"]) & t["to_state"].isin(d)]
        per_month = (
            inflow.groupby(["month_end", "to_state"])
            .agg(count=("account_id", "size"), balance=("next_balance", "sum"))
            .reset_index()
        )
        grid = pd.MultiIndex.from_product(
            [pd.DatetimeIndex(starts), d], names=["month_end", "to_state"]
        )
        per_month = per_month.set_index(["month_end", "to_state"]).reindex(grid, fill_value=0.0)
        # the current book (M0) at each start month and at the data end, for rates/trend
        m0 = (
            t[t["from_state"] == "M0"]
            .groupby("month_end")
            .agg(count=("account_id", "size"), balance=("balance", "sum"))
        )
        m0 = m0.reindex(pd.DatetimeIndex(starts), fill_value=0.0)
        last_rows = s[(me[s.index] == end).to_numpy()]
        at_end = last_rows[
            (last_rows["status"].astype(str) == "open") & (last_rows["dpd"].fillna(0) == 0)
        ]
        m0_end = pd.Series({"count": float(len(at_end)), "balance": float(at_end["balance"].sum())})
        history = pd.concat([m0, m0_end.to_frame(pd.Timestamp(end)).T])
        if self.new_volume_growth == "trend":
            # linear trend of the current book over the lookback, relative to its level
            # at the data end: inflow at h is scaled by 1 + slope * h / level
            growth = {}
            for col in ("count", "balance"):
                y = history[col].to_numpy(float)
                slope = np.polyfit(np.arange(len(y)), y, 1)[0] if len(y) >= 2 else 0.0
                growth[col] = float(slope / y[-1]) if y[-1] > 0 else 0.0
        else:
            growth = {
                "count": float(self.new_volume_growth),
                "balance": float(self.new_volume_growth),
            }
        self.new_volume_growth_ = growth
        if isinstance(self.new_volume, pd.DataFrame):
            given = self.new_volume.reindex(d).fillna(0.0)
            if not {"count", "balance"} <= set(given.columns):
                raise DataError(
                    "new_volume table needs columns 'count' and 'balance', indexed by bucket"
                )
            self.inflow_ = given[["count", "balance"]].astype(float)
        elif self.new_volume == "book_rate":
            total = per_month.groupby(level="to_state").sum().reindex(d)
            self.inflow_ = pd.DataFrame(
                {
                    "count": total["count"] / max(m0["count"].sum(), 1.0) * m0_end["count"],
                    "balance": total["balance"]
                    / max(m0["balance"].sum(), 1e-9)
                    * m0_end["balance"],
                }
            )
        elif self.new_volume == "recent_mean":
            self.inflow_ = per_month.groupby(level="to_state").mean().reindex(d)
        elif self.new_volume == "last":
            self.inflow_ = per_month.xs(pd.Timestamp(starts[-1]), level="month_end").reindex(d)
        elif self.new_volume == "none":
            self.inflow_ = pd.DataFrame(0.0, index=d, columns=["count", "balance"])
        else:
            raise DataError(
                "new_volume must be 'book_rate', 'recent_mean', 'last', 'none' or a DataFrame "
                "of count/balance by bucket"
            )
        self.inflow_.index.name = "state"
        # the starting book
        last = s[me[s.index] == end]
        is_open = last["status"].astype(str) == "open"
        buckets = last["bucket"].astype(object).where(last["bucket"].notna(), None)
        buckets = buckets.where(
            ~(is_open & buckets.isna()),
            pd.Series(config.aging.bucket_of(last["dpd"].to_numpy()), index=last.index),
        )
        init = (
            last[is_open]
            .assign(state=buckets[is_open])
            .groupby("state")["balance"]
            .agg(["size", "sum"])
        )
        self.initial_ = (
            init.rename(columns={"size": "count", "sum": "balance"})
            .reindex(d)
            .fillna(0.0)
            .astype(float)
        )
        self.initial_.index.name = "state"
        # recoveries on the recovery book
        rec_months = (
            t[t["from_state"] == "charged_off"].groupby("month_end")["next_paid_in_month"].sum()
        )
        self.recent_recoveries_ = float(
            rec_months.reindex(pd.DatetimeIndex(starts), fill_value=0.0).mean()
        )
        self._erc = None
        if self.recoveries is not None and not isinstance(self.recoveries, str):
            from sklearn.base import clone

            erc = clone(self.recoveries)
            if erc.get_params().get("n_bootstrap") is None:
                erc.set_params(n_bootstrap=0)  # only its expected collections are used here
            self._erc = erc.fit(s, data_end=end)
        elif self.recoveries not in (None, "recent_mean"):
            raise DataError("recoveries must be None, 'recent_mean' or an ERCForecaster")
        self.data_end_ = end
        return self

    # ------------------------------------------------------------------ forecasting

    def _check(self) -> None:
        if not hasattr(self, "count_matrix_"):
            raise DataError("RollRateForecaster is not fitted: call fit(snapshots) first")

    @fill_doc
    def predict(self, months_ahead: int = 12) -> pd.DataFrame:
        """Forecast counts and balances by delinquent bucket, 1 … ``months_ahead``.

        Parameters
        ----------
        {{forecast_horizon}}

        Returns
        -------
        DataFrame
            ``horizon, month_end, state, count, balance`` (currency) — one row per
            month and delinquent bucket.
        """
        n, b, _, months = self._run(months_ahead)
        d = list(self.count_matrix_.index)
        return pd.DataFrame(
            {
                "horizon": np.repeat(np.arange(1, months_ahead + 1), len(d)),
                "month_end": np.repeat(months, len(d)),
                "state": np.tile(d, months_ahead),
                "count": n.ravel(),
                "balance": b.ravel(),
            }
        )

    def _run(self, months_ahead: int):
        """Counts, balances and charge-off flows of the next months, and their month ends."""
        self._check()
        months = month_end(month_number([self.data_end_])[0] + np.arange(1, months_ahead + 1))
        p = self.count_matrix_.to_numpy()
        tb = self.balance_matrix_.to_numpy()
        k = p.shape[0]
        n = self.initial_["count"].to_numpy(float)
        b = self.initial_["balance"].to_numpy(float)
        co = list(self.count_matrix_.columns).index("charged_off")
        counts, balances, flows = [], [], []
        for h in range(1, months_ahead + 1):  # loop over forecast months
            # inflow during month h comes from the book at the start of it (h - 1)
            grow_n = max(1 + self.new_volume_growth_["count"] * (h - 1), 0.0)
            grow_b = max(1 + self.new_volume_growth_["balance"] * (h - 1), 0.0)
            gross_n, gross_b = n @ p[:, co], b @ tb[:, co]
            n = n @ p[:, :k] + self.inflow_["count"].to_numpy(float) * grow_n
            b = b @ tb[:, :k] + self.inflow_["balance"].to_numpy(float) * grow_b
            counts.append(n)
            balances.append(b)
            flows.append((gross_n, gross_b))
        return np.array(counts), np.array(balances), np.array(flows), months

    @fill_doc
    def predict_totals(self, months_ahead: int = 12) -> pd.DataFrame:
        """Book-level forecast: delinquent count and balance, charge-offs, recoveries.

        Parameters
        ----------
        {{forecast_horizon}}

        Returns
        -------
        DataFrame
            ``horizon, month_end, delinquent_count, delinquent_balance,
            gross_charge_off_count, gross_charge_off_balance, recoveries,
            net_charge_off_balance`` (currency for balances).
        """
        n, b, flows, months = self._run(months_ahead)
        out = pd.DataFrame(
            {
                "horizon": np.arange(1, months_ahead + 1),
                "month_end": months,
                "delinquent_count": n.sum(axis=1),
                "delinquent_balance": b.sum(axis=1),
                "gross_charge_off_count": flows[:, 0],
                "gross_charge_off_balance": flows[:, 1],
            }
        )
        if self._erc is not None:
            book = self._erc.predict(months_ahead)["collections"].to_numpy()
            rates = self._erc.rates_.to_numpy()
            # new charge-offs at horizon j recover rates[h - j - 1] of their balance at h
            new = np.zeros(months_ahead)
            for j in range(months_ahead):  # loop over forecast months
                ages = np.arange(1, months_ahead - j)
                new[j + 1 :] += flows[j, 1] * rates[ages - 1][: months_ahead - j - 1]
            out["recoveries"] = np.pad(book, (0, months_ahead - len(book))) + new
        elif self.recoveries == "recent_mean":
            out["recoveries"] = self.recent_recoveries_
        else:
            out["recoveries"] = 0.0
        out["net_charge_off_balance"] = out["gross_charge_off_balance"] - out["recoveries"]
        return out

    def summary(self) -> pd.DataFrame:
        """Transition shares (count) with the starting book and the inflow, by bucket."""
        self._check()
        out = self.count_matrix_.add_prefix("to_")
        out.insert(0, "inflow_count", self.inflow_["count"])
        out.insert(0, "initial_balance", self.initial_["balance"])
        out.insert(0, "initial_count", self.initial_["count"])
        return out


# --------------------------------------------------------------------------- actuals


@fill_doc
def actual_totals(snapshots: pd.DataFrame, config: Config | None = None) -> pd.DataFrame:
    """What happened, month by month, in the measures :meth:`RollRateForecaster.predict_totals` forecasts.

    Parameters
    ----------
    {{snapshots_table}}
    {{config_buckets}}

    Returns
    -------
    DataFrame
        ``month_end, delinquent_count, delinquent_balance`` (open rows in M1+),
        ``gross_charge_off_count, gross_charge_off_balance`` (accounts whose first
        ``charged_off`` month end it is, at their balance then), ``recoveries``
        (payments in the month by accounts charged off in an earlier month) and
        ``net_charge_off_balance``.

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": ["A", "A"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]),
    ...     "dpd": [150, 181], "bucket": ["M5", None], "balance": [100.0, 100.0],
    ...     "paid_in_month": [0.0, 0.0], "status": ["open", "charged_off"]})
    >>> actual_totals(snaps)[["delinquent_count", "gross_charge_off_balance"]].values.tolist()
    [[1.0, 0.0], [0.0, 100.0]]
    """
    config = config or Config()
    s = snapshots[
        ["account_id", "month_end", "dpd", "bucket", "balance", "paid_in_month", "status"]
    ].copy()
    s["month_end"] = pd.to_datetime(s["month_end"]).dt.normalize()
    status = s["status"].astype(str)
    bucket = s["bucket"].astype(object).where(s["bucket"].notna(), None)
    need = (status == "open") & bucket.isna()
    if need.any():
        bucket[need] = config.aging.bucket_of(s.loc[need, "dpd"].to_numpy())
    late = (status == "open") & bucket.isin(_delinquent_states(config))
    co = status == "charged_off"
    first_co = s.loc[co].groupby("account_id")["month_end"].min()
    s["co_month"] = s["account_id"].map(first_co)
    is_first = co & (s["month_end"] == s["co_month"])
    recovering = s["co_month"].notna() & (s["month_end"] > s["co_month"])
    g = pd.DataFrame(
        {
            "month_end": s["month_end"],
            "delinquent_count": late.astype(float),
            "delinquent_balance": s["balance"].where(late, 0.0),
            "gross_charge_off_count": is_first.astype(float),
            "gross_charge_off_balance": s["balance"].where(is_first, 0.0),
            "recoveries": s["paid_in_month"].fillna(0.0).where(recovering, 0.0),
        }
    )
    out = g.groupby("month_end", sort=True).sum().reset_index()
    out["net_charge_off_balance"] = out["gross_charge_off_balance"] - out["recoveries"]
    return out


# --------------------------------------------------------------------------- backtests


def _origins(
    snapshots: pd.DataFrame, origins, months_ahead: int, min_history: int
) -> list[pd.Timestamp]:
    months = np.sort(pd.to_datetime(snapshots["month_end"]).dt.normalize().unique())
    if origins is None:
        return [pd.Timestamp(m) for m in months[min_history - 1 : len(months) - months_ahead]]
    return [pd.Timestamp(o) + pd.offsets.MonthEnd(0) for o in origins]


@fill_doc
def backtest_roll_rate(
    snapshots: pd.DataFrame,
    origins=None,
    months_ahead: int = 12,
    config: Config | None = None,
    *,
    min_history: int = 13,
    **forecaster_params,
) -> pd.DataFrame:
    """Fit :class:`RollRateForecaster` up to each origin, forecast, compare with actuals.

    Parameters
    ----------
    snapshots : DataFrame
        The ``snapshots`` table (the whole history).
    origins : sequence of dates, optional
        Forecast origins (month ends). Default: every month end with at least
        ``min_history`` months before it and ``months_ahead`` after it.
    {{forecast_horizon}}
    {{config_buckets}}
    {{backtest_min_history}}
    **forecaster_params
        Passed to :class:`RollRateForecaster` (``lookback_months``, ``new_volume``,
        ``recoveries`` …).

    Returns
    -------
    DataFrame
        ``origin, horizon, month_end, measure, forecast, actual, error``
        (forecast − actual) and ``pct_error`` (error / actual) — long, one row per
        origin × horizon × measure (the measures of
        :meth:`RollRateForecaster.predict_totals`). Targets beyond the data are
        dropped.
    """
    config = config or Config()
    t_all = transitions(snapshots, config)
    actual = actual_totals(snapshots, config).set_index("month_end")
    frames = []
    for origin in _origins(snapshots, origins, months_ahead, min_history):  # loop over origins
        f = RollRateForecaster(config=config, **forecaster_params).fit(
            snapshots, data_end=origin, transition_table=t_all
        )
        pred = f.predict_totals(months_ahead)
        pred = pred[pred["month_end"].isin(actual.index)]
        long = pred.melt(
            id_vars=["horizon", "month_end"],
            value_vars=list(_MEASURES),
            var_name="measure",
            value_name="forecast",
        )
        long["actual"] = (
            actual.stack()
            .reindex(pd.MultiIndex.from_frame(long[["month_end", "measure"]]))
            .to_numpy()
        )
        long.insert(0, "origin", origin)
        frames.append(long)
    if not frames:
        raise DataError(
            "no backtest origin has both history and follow-up; give origins or more data"
        )
    out = pd.concat(frames, ignore_index=True)
    out["error"] = out["forecast"] - out["actual"]
    out["pct_error"] = out["error"] / out["actual"].where(out["actual"].abs() > 0)
    return out


@fill_doc
def backtest_erc(
    snapshots: pd.DataFrame,
    origins=None,
    months_ahead: int = 12,
    config: Config | None = None,
    *,
    min_history: int = 13,
    **forecaster_params,
) -> pd.DataFrame:
    """Fit :class:`~recovery.analytics.liquidation.ERCForecaster` up to each origin and compare.

    The forecast is the collections forecast from ERC on the cohorts charged off by
    the origin; the actual is what those accounts paid in the following months.

    Parameters
    ----------
    {{snapshots_table}}
    origins : sequence of dates, optional
        Forecast origins (default as in :func:`backtest_roll_rate`).
    {{forecast_horizon}}
    {{config}}
    {{backtest_min_history}}
    **forecaster_params
        Passed to :class:`~recovery.analytics.liquidation.ERCForecaster` (``method`` …);
        ``n_bootstrap`` defaults to 0 here.

    Returns
    -------
    DataFrame
        ``origin, horizon, month_end, measure`` (``collections`` in the month and
        ``cumulative_collections`` to that month), ``forecast, actual, error,
        pct_error``.
    """
    from recovery.analytics.liquidation import ERCForecaster, recovery_cells

    config = config or Config()
    forecaster_params.setdefault("n_bootstrap", 0)
    pay, cohorts, _ = recovery_cells(snapshots, None)
    pay = pay.assign(month_no=pay["_mi"])
    frames = []
    for origin in _origins(snapshots, origins, months_ahead, min_history):  # loop over origins
        o = month_number([origin])[0]
        erc = ERCForecaster(config=config, **forecaster_params).fit_cells(pay, cohorts, o)
        pred = erc.predict(months_ahead)
        known = cohorts.loc[cohorts["_cmi"] <= o, "account_id"]
        later = pay[
            pay["account_id"].isin(known)
            & (pay["month_no"] > o)
            & (pay["month_no"] <= o + months_ahead)
        ]
        act = (
            later.groupby("month_no")["paid_in_month"]
            .sum()
            .reindex(o + pred["horizon"].to_numpy(), fill_value=0.0)
        )
        last = month_number([pd.to_datetime(snapshots["month_end"]).max()])[0]
        keep = (o + pred["horizon"].to_numpy()) <= last
        df = pd.DataFrame(
            {
                "origin": origin,
                "horizon": pred["horizon"].to_numpy()[keep],
                "month_end": pred["month_end"].to_numpy()[keep],
                "collections": pred["collections"].to_numpy()[keep],
                "actual": act.to_numpy()[keep],
            }
        )
        frames.append(
            pd.concat(
                [
                    df.assign(measure="collections", forecast=df["collections"]),
                    df.assign(
                        measure="cumulative_collections",
                        forecast=df["collections"].cumsum(),
                        actual=df["actual"].cumsum(),
                    ),
                ]
            ).drop(columns="collections")
        )
    if not frames:
        raise DataError(
            "no backtest origin has both history and follow-up; give origins or more data"
        )
    out = pd.concat(frames, ignore_index=True)[
        ["origin", "horizon", "month_end", "measure", "forecast", "actual"]
    ]
    out["error"] = out["forecast"] - out["actual"]
    out["pct_error"] = out["error"] / out["actual"].where(out["actual"].abs() > 0)
    return out


@fill_doc
def forecast_errors(
    backtest: pd.DataFrame,
    window: tuple[pd.Timestamp | str, pd.Timestamp | str] | None = None,
) -> pd.DataFrame:
    """MAPE and bias by measure and horizon, overall and outside / inside a window.

    Parameters
    ----------
    {{backtest_table}}
    window : (start, end), optional
        Month ends bounding a period to report apart (e.g. a regime shift). A forecast
        is ``inside`` when any month of ``(origin, month_end]`` is in the window.

    Returns
    -------
    DataFrame
        ``measure, horizon, subset`` (``all``, ``outside``, ``inside``), ``n``
        (forecasts), ``mape`` (mean |pct_error|), ``bias`` (mean pct_error), both as
        fractions.

    Examples
    --------
    >>> bt = pd.DataFrame({"origin": pd.to_datetime(["2024-01-31", "2024-02-29"]),
    ...     "horizon": [1, 1], "month_end": pd.to_datetime(["2024-02-29", "2024-03-31"]),
    ...     "measure": "delinquent_balance", "pct_error": [0.1, -0.3]})
    >>> e = forecast_errors(bt, window=("2024-03-31", "2024-03-31"))
    >>> e[["subset", "n", "mape", "bias"]].round(2).values.tolist()
    [['all', 2, 0.2, -0.1], ['inside', 1, 0.3, -0.3], ['outside', 1, 0.1, 0.1]]
    """
    bt = backtest.dropna(subset=["pct_error"]).copy()
    parts = [bt.assign(subset="all")]
    if window is not None:
        w0, w1 = (pd.Timestamp(w) + pd.offsets.MonthEnd(0) for w in window)
        first = pd.to_datetime(bt["origin"]) + pd.offsets.MonthEnd(1)
        inside = (first <= w1) & (pd.to_datetime(bt["month_end"]) >= w0)
        parts += [bt[~inside].assign(subset="outside"), bt[inside].assign(subset="inside")]
    allp = pd.concat(parts, ignore_index=True)
    allp["ape"] = allp["pct_error"].abs()
    out = (
        allp.groupby(["measure", "horizon", "subset"], sort=True)
        .agg(n=("pct_error", "size"), mape=("ape", "mean"), bias=("pct_error", "mean"))
        .reset_index()
    )
    return out


@fill_doc
def plot_backtest(
    backtest: pd.DataFrame, measure: str = "delinquent_balance", horizon: int = 12, ax=None
):
    """Forecast made ``horizon`` months earlier vs actual, by target month.

    Parameters
    ----------
    {{backtest_table}}
    measure : str
        Which measure.
    horizon : int
        Which horizon (months).
    {{plot_ax}}

    {{returns_axes}}

    Examples
    --------
    >>> bt = pd.DataFrame({"origin": pd.to_datetime(["2024-01-31"]), "horizon": [1],
    ...     "month_end": pd.to_datetime(["2024-02-29"]), "measure": "delinquent_balance",
    ...     "forecast": [10.0], "actual": [11.0]})
    >>> plot_backtest(bt, horizon=1).get_ylabel()
    'delinquent_balance'
    """
    ax = plot_axes(ax, (8, 4))
    g = backtest[(backtest["measure"] == measure) & (backtest["horizon"] == horizon)].sort_values(
        "month_end"
    )
    ax.plot(g["month_end"], g["actual"], label="actual", color="k")
    ax.plot(
        g["month_end"], g["forecast"], label=f"forecast {horizon} months ahead", color="tab:orange"
    )
    ax.set_xlabel("target month")
    ax.set_ylabel(measure)
    ax.legend(fontsize=8)
    return ax
