"""Roll-rate (Markov) forecasts of the delinquent book.

:class:`RollRateForecaster` projects the delinquent buckets (M1 … M7+ of
``config.aging``) 1–12 months ahead from the transition matrices of the most recent
months (DESIGN.md §3 roll rates, from :func:`recovery.analytics.states.transitions`):

* **counts**: ``n[h] = n[h-1] · P + inflow`` where ``P[i, j]`` is the pooled share
  of accounts in bucket *i* at *m* that are in state *j* at *m + 1* over the last
  ``lookback_months`` pairs of months, shrunk toward the row of all months
  (:mod:`recovery.analytics.credibility`);
* **balances**: ``b[h] = (b[h-1] · g) · S + inflow_balance`` where ``S[i, j]`` is the
  same share weighted by the balance at *m* (rows sum to 1: where balances go) and
  ``g[i]`` the bucket's monthly growth factor while overdue (how they grow), shrunk
  toward 1 and capped (``config.analytics.forecast_max_accrual``). The forecast's
  health is the spectral radius of ``g · S`` over the delinquent buckets
  (:mod:`recovery.analytics.chain`): at 1 or more the buckets responsible lose their
  growth, and :attr:`RollRateForecaster.warnings_` says so;
* **inflow** (the new-volume assumption, explicit): accounts entering a delinquent
  bucket from M0 or from outside the book (new loans) each month. By default their
  rate per account of the current book, grown at the book's recent trend shrunk by
  its noise and damped (``config.analytics.forecast_trend_damping``), the trend's part
  reported apart; or the mean of the lookback months, the last month, or a table the
  user gives;
* **gross charge-offs** are the flows into ``charged_off`` (count and balance at
  charge-off); **recoveries** on the recovery book come from an
  :class:`recovery.analytics.liquidation.ERCForecaster` (the collections forecast from ERC, plus
  the expected recoveries on the forecast new charge-offs) or, failing that, the
  recent monthly mean; **net charge-offs** = gross charge-off balance − recoveries.

Backtests of these forecasts: :mod:`recovery.analytics.backtest`.

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

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from recovery.analytics.chain import growth_factors, shrunk_trend, spectral_radius, unstable_states
from recovery.analytics.common import month_end, month_number
from recovery.analytics.credibility import credibility_alpha, shrink_rows
from recovery.analytics.forecast_inputs import fit_transitions_up_to, rows_up_to
from recovery.analytics.partitions import PartitionedSnapshots
from recovery.analytics.states import transitions
from recovery.config import Config
from recovery.data.contract import require_columns
from recovery.docstrings import fill_doc
from recovery.errors import DataError

__all__ = ["RollRateForecaster", "delinquent_states"]

_EXITS = ("M0", "charged_off", "paid_off", "settled", "other_exit")


def _dates(column: pd.Series) -> pd.Series:
    """A column of dates as datetimes (as it is when it already holds them)."""
    return column if column.dtype.kind == "M" else pd.to_datetime(column)


def delinquent_states(config: Config) -> list[str]:
    """The delinquent buckets of ``config.aging`` (M1 … M7+: every bucket but the first).

    Examples
    --------
    >>> delinquent_states(Config())[:2]
    ['M1', 'M2']
    """
    return config.aging.bucket_labels()[1:]


@dataclass(eq=False, repr=False)
class RollRateForecaster(BaseEstimator):
    """Markov forecast of delinquent bucket counts and balances and of charge-offs.

    Where balances go and how they grow are kept apart: counts move by the roll-rate
    matrix by count, balances by the roll-rate matrix weighted by the balance at *m*
    (rows sum to 1), times a per-bucket **growth factor** while overdue (interest and
    fees), shrunk toward 1 and capped. Each bucket's recent row is shrunk toward its
    row pooled over all months (credibility, :mod:`recovery.analytics.credibility`),
    so a thin bucket leans on its history. The forecast's **health** is the spectral
    radius of the delinquent block of the balance matrix times the growth factors: below
    1 the book left alone shrinks; at or above 1 it would grow without bound, and the
    forecaster falls back to holding balances at their size (no growth), saying so in
    :attr:`warnings_`.

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
        Monthly growth of the inflow from the data end, as a share of the starting
        inflow (0.01 = +1 % of it a month), damped by ``trend_damping``. ``"trend"``
        (default) estimates it from the current book (M0 count and balance) over the
        lookback months: least-squares slope divided by the level at the data end.
    recoveries : {"recent_mean"} or ERCForecaster, optional
        How recoveries on charged-off debt are forecast: an (unfitted or fitted)
        :class:`recovery.analytics.liquidation.ERCForecaster`, refitted on the same data (without
        bootstrap unless its ``n_bootstrap`` is set: only the expected collections are
        used), or the recent monthly mean of recoveries. ``None``: no recoveries
        (net = gross).
    shrinkage : float or "estimate", optional
        Prior weight (accounts) of the pooled row (``config.analytics.forecast_shrinkage``
        when None).
    max_accrual : float, optional
        Cap on the monthly growth factor of an overdue balance
        (``config.analytics.forecast_max_accrual`` when None).
    trend_damping : float, optional
        Monthly damping φ of the new-volume growth, 0–1
        (``config.analytics.forecast_trend_damping`` when None).
    config : Config, optional
        Bucket labels (``config.aging``) and the defaults above.

    Attributes
    ----------
    count_matrix_ : DataFrame
        ``P``: delinquent bucket (rows) → state (columns: buckets, M0, exits), shrunk,
        rows sum to 1.
    balance_matrix_ : DataFrame
        ``S``: the same by balance at *m* (rows sum to 1): where each unit of balance
        goes.
    accrual_ : DataFrame
        By bucket, the monthly growth factor of the balances that stay overdue (or are
        charged off): ``observed`` in the lookback months, ``pooled`` over all months
        and shrunk toward 1 by its noise, ``factor`` = the two weighted by
        :attr:`credibility_`, capped at ``max_accrual``, and ``used`` (at most 1 where
        the fallback applies).
    credibility_ : Series
        Weight of each bucket's recent months against its pooled row, ``n / (n + α)``.
    shrinkage_alpha_ : float
        α (accounts) used; ``inf`` when the months differ no more than noise explains.
    health_ : Series
        ``spectral_radius`` (of the matrix used), ``spectral_radius_fitted`` (before any
        fallback), ``max_monthly_growth`` (largest month-on-month change of the
        forecast delinquent balance over 12 months, a fraction), ``stable``
        (spectral radius below 1) and ``fallback`` (the buckets whose balance growth was
        dropped because it would grow without bound, or "").
    warnings_ : list of str
        Plain sentences on the forecast's health, for people (empty when healthy).
    inflow_ : DataFrame
        Assumed monthly inflow by bucket (``count``, ``balance``).
    new_volume_growth_ : dict
        Monthly growth of the inflow (``count``, ``balance``), before damping.
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

    lookback_months: int = 6
    new_volume: Literal["book_rate", "recent_mean", "last", "none"] | pd.DataFrame = "book_rate"
    new_volume_growth: float | Literal["trend"] = "trend"
    recoveries: Any = None
    shrinkage: float | Literal["estimate"] | None = None
    max_accrual: float | None = None
    trend_damping: float | None = None
    config: Config | None = None

    # ------------------------------------------------------------------ fitting

    def _settings(self, config: Config) -> tuple[float | str, float, float]:
        a = config.analytics
        alpha = a.forecast_shrinkage if self.shrinkage is None else self.shrinkage
        cap = a.forecast_max_accrual if self.max_accrual is None else float(self.max_accrual)
        phi = a.forecast_trend_damping if self.trend_damping is None else float(self.trend_damping)
        if not (alpha == "estimate" or (isinstance(alpha, (int, float)) and alpha >= 0)):
            raise DataError(f"shrinkage must be 'estimate' or a number >= 0, got {alpha!r}")
        if not cap >= 1:
            raise DataError(f"max_accrual must be >= 1, got {cap!r}")
        if not 0 <= phi <= 1:
            raise DataError(f"trend_damping must be between 0 and 1, got {phi!r}")
        return alpha, cap, phi

    def _fit_matrices(self, t: pd.DataFrame, starts: np.ndarray, d: list[str], config: Config):
        """Shrunk count and balance matrices and the growth factors, from transitions."""
        alpha, cap, _ = self._settings(config)
        to_states = d + list(_EXITS)
        frm = t[t["from_state"].isin(d)].assign(
            balance=lambda x: x["balance"].clip(lower=0.0),
            next_balance=lambda x: x["next_balance"].clip(lower=0.0),
        )
        recent = frm["month_end"].isin(starts)

        def table(rows: pd.DataFrame, values: str | None) -> pd.DataFrame:
            if values is None:
                out = pd.crosstab(rows["from_state"], rows["to_state"])
            else:
                out = rows.pivot_table(
                    index="from_state", columns="to_state", values=values, aggfunc="sum"
                )
            return out.reindex(index=d, columns=to_states).fillna(0.0).astype(float)

        def shares(x: pd.DataFrame) -> pd.DataFrame:
            return x.div(x.sum(axis=1).where(x.sum(axis=1) > 0), axis=0).fillna(0.0)

        cnt, bal = table(frm[recent], None), table(frm[recent], "balance")
        pooled_cnt, pooled_bal = table(frm, None), table(frm, "balance")
        if alpha == "estimate":
            # the groups are blocks of lookback_months months counted back from the data
            # end (the latest block is the lookback itself): how much such blocks differ
            all_starts = np.sort(frm["month_end"].unique())[::-1]
            block = pd.Series(np.arange(len(all_starts)) // len(starts), index=all_starts)
            blocks = frm.assign(block=frm["month_end"].map(block).to_numpy())
            table_b = pd.crosstab([blocks["block"], blocks["from_state"]], blocks["to_state"])
            alpha = credibility_alpha(table_b.reset_index(), "block")
        self.shrinkage_alpha_ = float(alpha)
        self.max_accrual_ = cap
        p, z = shrink_rows(cnt, shares(pooled_cnt), self.shrinkage_alpha_)

        # balance shares: the bucket's balance row where it has balance, else its count row
        def balance_shares(by_balance: pd.DataFrame, by_count: pd.DataFrame) -> pd.DataFrame:
            out = shares(by_balance)
            none = by_balance.sum(axis=1) <= 0
            out.loc[none] = shares(by_count).loc[none]
            return out

        own_b, prior_b = balance_shares(bal, cnt), balance_shares(pooled_bal, pooled_cnt)
        s = own_b.mul(z, axis=0) + prior_b.mul(1.0 - z, axis=0)
        # a bucket never seen at all stays where it is (no information to move it)
        unseen = p.sum(axis=1) == 0
        for state in p.index[unseen]:
            p.loc[state, state] = 1.0
            s.loc[state, state] = 1.0
        self.count_matrix_, self.balance_matrix_ = p, s
        self.credibility_ = z
        self.accounts_ = cnt.sum(axis=1)
        # growth while overdue: the recent months' factor leans on the one of all months
        # (same credibility as the rows), which leans on 1 by its noise; then the cap
        stay = frm[frm["to_state"].isin([*d, "charged_off"]) & (frm["balance"] > 0)]
        own = growth_factors(stay[stay["month_end"].isin(starts)], d, cap)["observed"]
        pooled = growth_factors(stay, d, cap)["shrunk"]
        self.accrual_ = pd.DataFrame(
            {
                "observed": own,
                "pooled": pooled,
                "factor": np.minimum(z * own + (1.0 - z) * pooled, cap),
            }
        )

    def _check_health(self, d: list[str]) -> None:
        """Spectral radius with the growth factors; no growth where it reaches 1."""
        s = self.balance_matrix_[d].to_numpy()
        start = self.initial_["balance"].to_numpy(float) + self.inflow_["balance"].to_numpy(float)
        start = start + self.initial_["count"].to_numpy(float)
        factor = self.accrual_["factor"].to_numpy()
        rho_fit = spectral_radius(s * factor[:, None], start)
        # the buckets whose balance would grow without bound lose their growth
        drop = unstable_states(s * factor[:, None], start) & (factor > 1)
        used = np.where(drop, 1.0, factor)
        self.accrual_["used"] = used
        rho = spectral_radius(s * used[:, None], start)
        self.health_ = pd.Series(
            {
                "spectral_radius": rho,
                "spectral_radius_fitted": rho_fit,
                "max_monthly_growth": np.nan,
                "stable": bool(rho < 1),
                "fallback": ", ".join(np.asarray(d)[drop]),
            },
            dtype=object,
        )
        b = self.predict_totals(12)["delinquent_balance"].to_numpy()
        level = np.r_[self.initial_["balance"].sum(), b]
        with np.errstate(divide="ignore", invalid="ignore"):
            change = level[1:] / level[:-1] - 1.0
        finite = change[np.isfinite(change)]
        self.health_["max_monthly_growth"] = float(finite.max()) if len(finite) else 0.0
        self.warnings_ = self._health_sentences(d, drop, rho_fit)

    def _health_sentences(self, d: list[str], drop: np.ndarray, rho_fit: float) -> list[str]:
        out = []
        a = self.accrual_
        cap = self.max_accrual_
        capped = [s for s in d if a.loc[s, "observed"] > cap and a.loc[s, "factor"] >= cap]
        if capped:
            worst = float(a.loc[capped, "observed"].max())
            out.append(
                f"Overdue balances in {', '.join(capped)} grew by up to "
                f"{100 * (worst - 1):.0f} % a month in the recent months; the forecast grows "
                f"them by at most {100 * (cap - 1):.1f} % a month."
            )
        if drop.any():
            names = ", ".join(np.asarray(d)[drop])
            out.append(
                f"Most of the overdue balance in {names} stays there from month to month, so "
                f"growing it would make the forecast grow without bound ({rho_fit:.3f} times a "
                "month); the forecast holds those balances at their size instead."
            )
        if not self.health_["stable"]:
            m = self.balance_matrix_
            held = [s for s in d if m.loc[s, s] >= 1 - 1e-9] or ["some buckets"]
            out.append(
                f"No balance in the data has left {', '.join(held)} yet, so the forecast keeps "
                "everything that reaches it there and it grows with each month's new "
                "delinquencies."
            )
        return out

    def fit(
        self,
        snapshots: pd.DataFrame,
        y=None,
        *,
        data_end: pd.Timestamp | str | None = None,
        transition_table: pd.DataFrame | None = None,
    ):
        """Estimate the matrices, growth factors, inflow and starting book at the data end.

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
        _, _, phi = self._settings(config)
        s, end, last = rows_up_to(snapshots, data_end)
        if transition_table is not None:
            t_all = transition_table
        elif isinstance(s, PartitionedSnapshots):  # only what the fit reads travels
            t_all = fit_transitions_up_to(s, config, end, self.lookback_months)
        else:
            t_all = transitions(s, config)
        t_all = t_all[_dates(t_all["next_month_end"]) <= end]
        starts = np.sort(_dates(t_all["month_end"]).unique())[-self.lookback_months :]
        if len(starts) == 0:
            raise DataError("need at least two consecutive month ends to estimate roll rates")
        d = delinquent_states(config)
        self._fit_matrices(t_all, starts, d, config)
        t = t_all[_dates(t_all["month_end"]).isin(starts)]

        # inflow: from M0 or new into a delinquent bucket, per start month
        inflow = t[t["from_state"].isin(["M0", "new"]) & t["to_state"].isin(d)]
        per_month = (
            inflow.groupby(["month_end", "to_state"])
            .agg(count=("from_state", "size"), balance=("next_balance", "sum"))
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
            .agg(count=("from_state", "size"), balance=("balance", "sum"))
        )
        m0 = m0.reindex(pd.DatetimeIndex(starts), fill_value=0.0)
        last_rows = last
        at_end = last_rows[
            (last_rows["status"].astype(str) == "open") & (last_rows["dpd"].fillna(0) == 0)
        ]
        m0_end = pd.Series({"count": float(len(at_end)), "balance": float(at_end["balance"].sum())})
        history = pd.concat([m0, m0_end.to_frame(pd.Timestamp(end)).T])
        if self.new_volume_growth == "trend":
            # linear trend of the current book over the lookback, relative to its level
            # at the data end, shrunk by its own noise (damped in the forecast, see _run)
            growth = {
                col: shrunk_trend(history[col].to_numpy(float)) for col in ("count", "balance")
            }
        else:
            growth = {
                "count": float(self.new_volume_growth),
                "balance": float(self.new_volume_growth),
            }
        self.new_volume_growth_ = growth
        self.trend_damping_ = phi
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
        is_open = last["status"].astype(str) == "open"
        buckets = last["bucket"].astype(object).where(last["bucket"].notna(), None)
        buckets = buckets.where(
            ~(is_open & buckets.isna()),
            pd.Series(config.aging.bucket_of(last["dpd"].to_numpy()), index=last.index),
        )
        init = (
            last[is_open]
            .assign(state=buckets[is_open], balance=last["balance"].clip(lower=0.0))
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
        self._check_health(d)
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
        run = self._run(months_ahead)
        d = list(self.count_matrix_.index)
        return pd.DataFrame(
            {
                "horizon": np.repeat(np.arange(1, months_ahead + 1), len(d)),
                "month_end": np.repeat(run["months"], len(d)),
                "state": np.tile(d, months_ahead),
                "count": run["count"].ravel(),
                "balance": run["balance"].ravel(),
            }
        )

    def _run(self, months_ahead: int) -> dict[str, np.ndarray]:
        """Counts, balances, their parts due to the inflow trend, charge-off flows."""
        self._check()
        months = month_end(month_number([self.data_end_])[0] + np.arange(1, months_ahead + 1))
        k = len(self.count_matrix_.index)
        co = list(self.count_matrix_.columns).index("charged_off")
        p = self.count_matrix_.to_numpy()
        # each unit of balance goes where the balance-weighted roll rates send it, grown
        # by its bucket's factor while overdue (cures and exits leave the overdue book)
        tb = self.balance_matrix_.to_numpy() * self.accrual_["used"].to_numpy()[:, None]
        n = self.initial_["count"].to_numpy(float)
        b = self.initial_["balance"].to_numpy(float)
        n_trend, b_trend = np.zeros(k), np.zeros(k)
        in_n = self.inflow_["count"].to_numpy(float)
        in_b = self.inflow_["balance"].to_numpy(float)
        # damped trend: by month h the inflow has grown by slope · (φ + … + φ^(h−1))
        phi = self.trend_damping_
        steps = np.r_[0.0, np.cumsum(phi ** np.arange(1, months_ahead))]
        out = {
            k_: [] for k_ in ("count", "balance", "count_trend", "balance_trend", "co_n", "co_b")
        }
        for h in range(months_ahead):  # loop over forecast months
            # inflow during month h + 1 comes from the book at the start of it
            up_n = max(1 + self.new_volume_growth_["count"] * steps[h], 0.0) - 1
            up_b = max(1 + self.new_volume_growth_["balance"] * steps[h], 0.0) - 1
            out["co_n"].append(n @ p[:, co])
            out["co_b"].append(b @ tb[:, co])
            n = n @ p[:, :k] + in_n * (1 + up_n)
            b = b @ tb[:, :k] + in_b * (1 + up_b)
            n_trend = n_trend @ p[:, :k] + in_n * up_n
            b_trend = b_trend @ tb[:, :k] + in_b * up_b
            for key, value in (("count", n), ("balance", b)):
                out[key].append(value)
            out["count_trend"].append(n_trend.sum())
            out["balance_trend"].append(b_trend.sum())
        res = {key: np.array(v).reshape(months_ahead, -1).squeeze() for key, v in out.items()}
        res["count"] = np.array(out["count"]).reshape(months_ahead, k)
        res["balance"] = np.array(out["balance"]).reshape(months_ahead, k)
        res["months"] = months
        return res

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
            net_charge_off_balance`` (currency for balances), and
            ``delinquent_count_trend, delinquent_balance_trend``: the part of the
            delinquent forecast that comes from the new-volume trend (the forecast
            minus the same forecast with a flat inflow).
        """
        run = self._run(months_ahead)
        co_n = np.atleast_1d(run["co_n"])
        co_b = np.atleast_1d(run["co_b"])
        out = pd.DataFrame(
            {
                "horizon": np.arange(1, months_ahead + 1),
                "month_end": run["months"],
                "delinquent_count": run["count"].sum(axis=1),
                "delinquent_balance": run["balance"].sum(axis=1),
                "gross_charge_off_count": co_n,
                "gross_charge_off_balance": co_b,
            }
        )
        if self._erc is not None:
            book = self._erc.predict(months_ahead)["collections"].to_numpy()
            rates = self._erc.rates_.to_numpy()
            # new charge-offs at horizon j recover rates[h - j - 1] of their balance at h
            new = np.zeros(months_ahead)
            for j in range(months_ahead):  # loop over forecast months
                ages = np.arange(1, months_ahead - j)
                new[j + 1 :] += co_b[j] * rates[ages - 1][: months_ahead - j - 1]
            out["recoveries"] = np.pad(book, (0, months_ahead - len(book))) + new
        elif self.recoveries == "recent_mean":
            out["recoveries"] = self.recent_recoveries_
        else:
            out["recoveries"] = 0.0
        out["net_charge_off_balance"] = out["gross_charge_off_balance"] - out["recoveries"]
        out["delinquent_count_trend"] = np.atleast_1d(run["count_trend"])
        out["delinquent_balance_trend"] = np.atleast_1d(run["balance_trend"])
        return out

    def summary(self) -> pd.DataFrame:
        """By bucket: the roll rates (count), the book, the inflow and the forecast's health.

        Returns
        -------
        DataFrame
            Indexed by delinquent bucket: ``initial_count, initial_balance,
            inflow_count, inflow_balance``, ``accounts`` (from the bucket in the
            lookback months), ``shrinkage_weight`` (weight of the row pooled over all
            months, ``α / (n + α)``), ``growth_observed`` and ``growth_factor``
            (monthly balance growth while overdue, observed and used), the book-level
            ``spectral_radius`` and ``max_monthly_growth`` (the same on every row), then
            ``to_<state>`` shares.
        """
        self._check()
        out = self.count_matrix_.add_prefix("to_")
        front = pd.DataFrame(
            {
                "initial_count": self.initial_["count"],
                "initial_balance": self.initial_["balance"],
                "inflow_count": self.inflow_["count"],
                "inflow_balance": self.inflow_["balance"],
                "accounts": self.accounts_,
                "shrinkage_weight": 1.0 - self.credibility_,
                "growth_observed": self.accrual_["observed"],
                "growth_factor": self.accrual_["used"],
                "spectral_radius": float(self.health_["spectral_radius"]),
                "max_monthly_growth": float(self.health_["max_monthly_growth"]),
            }
        )
        return pd.concat([front, out], axis=1).rename_axis(index="state", columns=None)
