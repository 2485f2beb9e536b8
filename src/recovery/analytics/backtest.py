"""Backtests of forecasts: fit on the data up to an origin, forecast, compare with what happened.

:func:`backtest_roll_rate` (the :class:`~recovery.analytics.forecast.RollRateForecaster`)
and :func:`backtest_erc` (the :class:`~recovery.analytics.liquidation.ERCForecaster`) fit
on the data up to an origin month *m* only, forecast, and compare with what happened
(:func:`actual_totals`, in the measures the roll-rate forecast gives);
:func:`forecast_errors` summarises MAPE and bias by horizon, with and without a window
(e.g. a regime shift): a forecast is *inside* the window when any month of
``(origin, target]`` falls in it; :func:`plot_backtest` draws forecast against actual.

Examples
--------
>>> import pandas as pd
>>> from recovery.analytics.backtest import backtest_roll_rate
>>> snaps = pd.DataFrame({"account_id": ["A", "B"] * 3,
...     "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2 + ["2024-03-31"] * 2),
...     "dpd": [10, 40, 40, 70, 70, 100], "bucket": ["M1", "M2", "M2", "M3", "M3", "M4"],
...     "balance": [100.0] * 6, "amount_overdue": [10.0] * 6,
...     "paid_in_month": [0.0] * 6, "status": ["open"] * 6})
>>> bt = backtest_roll_rate(snaps, origins=["2024-02-29"], months_ahead=1,
...                         lookback_months=1, new_volume="none")
>>> bt.loc[bt["measure"] == "delinquent_count", ["forecast", "actual"]].values.tolist()
[[2.0, 2.0]]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.analytics.common import month_end, month_number, plot_axes
from recovery.analytics.forecast import RollRateForecaster, delinquent_states
from recovery.analytics.forecast_inputs import BacktestRows, backtest_transitions, rows_at
from recovery.analytics.partitions import PartitionedSnapshots, sum_partials
from recovery.analytics.states import transitions
from recovery.config import Config
from recovery.docstrings import fill_doc
from recovery.errors import DataError

__all__ = [
    "actual_totals",
    "backtest_roll_rate",
    "backtest_erc",
    "forecast_errors",
    "plot_backtest",
]

_MEASURES = (
    "delinquent_count",
    "delinquent_balance",
    "gross_charge_off_count",
    "gross_charge_off_balance",
    "recoveries",
    "net_charge_off_balance",
)


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
    if isinstance(snapshots, PartitionedSnapshots):
        out = snapshots.memo(
            ("actual_totals", config),
            lambda: sum_partials(snapshots.map(_actual_partial, config), ["month_end"]),
        ).copy()
    else:
        out = _actual_partial(snapshots, config)
    out["net_charge_off_balance"] = out["gross_charge_off_balance"] - out["recoveries"]
    return out


def _actual_partial(snapshots: pd.DataFrame, config: Config) -> pd.DataFrame:
    """The sums of :func:`actual_totals` per month end, of a table or part of one."""
    s = snapshots[
        ["account_id", "month_end", "dpd", "bucket", "balance", "paid_in_month", "status"]
    ].copy()
    s["month_end"] = pd.to_datetime(s["month_end"]).dt.normalize()
    status = s["status"].astype(str)
    bucket = s["bucket"].astype(object).where(s["bucket"].notna(), None)
    need = (status == "open") & bucket.isna()
    if need.any():
        bucket[need] = config.aging.bucket_of(s.loc[need, "dpd"].to_numpy())
    late = (status == "open") & bucket.isin(delinquent_states(config))
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
    return g.groupby("month_end", sort=True).sum().reset_index()


# --------------------------------------------------------------------------- backtests


def _origins(
    snapshots: pd.DataFrame, origins, months_ahead: int, min_history: int
) -> list[pd.Timestamp]:
    if isinstance(snapshots, PartitionedSnapshots):
        months = month_end(snapshots.months).to_numpy()
    else:
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
    since = None
    if isinstance(snapshots, PartitionedSnapshots):  # only what the fits read travels
        at = _origins(snapshots, origins, months_ahead, min_history)
        lookback = RollRateForecaster(config=config, **forecaster_params).lookback_months
        t_all, since = backtest_transitions(snapshots, config, at, lookback)
        rows_at(snapshots, at)  # one pass
    else:
        t_all = transitions(snapshots, config)
    actual = actual_totals(snapshots, config).set_index("month_end")
    fit_rows = BacktestRows(t_all, delinquent_states(config), since)
    frames = []
    for origin in _origins(snapshots, origins, months_ahead, min_history):  # loop over origins
        f = RollRateForecaster(config=config, **forecaster_params)
        f.fit(snapshots, data_end=origin, transition_table=fit_rows(origin, f.lookback_months))
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
