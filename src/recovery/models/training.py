"""From a portfolio to a validated scorer: features → labels → fit → evaluate.

:func:`build_model_frame` joins the point-in-time features
(:func:`recovery.timeline.features.build_features`) of the overdue accounts at each month end
with their labels (:func:`recovery.timeline.labels.build_labels`); :func:`train_and_evaluate`
splits it out of time (a gap of one horizon before the test months), fits a
:class:`~recovery.models.Scorer` and reports the test metrics overall, by stage and by
bucket — with the oracle metrics when the simulator's truth is attached
(:func:`attach_truth`).

Examples
--------
>>> from recovery.models.training import label_for
>>> label_for("p_cure")
'p_cure'
>>> label_for("amount")
'amount_collected'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError, MissingColumnError
from recovery.models.evaluation import (
    classification_metrics,
    evaluation_report,
    regression_metrics,
)
from recovery.models.scorer import TARGETS, Scorer
from recovery.models.split import out_of_time_masks

__all__ = [
    "build_model_frame",
    "attach_truth",
    "label_for",
    "training_labels",
    "default_test_start",
    "train_and_evaluate",
    "TrainingResult",
    "month_ends",
    "score_with_monthly_recalibration",
]


def label_for(target: str) -> str:
    """Label column of a target (``amount`` reads ``amount_collected``)."""
    if target not in TARGETS:
        raise DataError(f"unknown target {target!r}; choose one of {list(TARGETS)}")
    return TARGETS[target]["label"]


def month_ends(portfolio: Portfolio, start=None, end=None) -> pd.DatetimeIndex:
    """Month ends from the first origination (or ``start``) to the data end (or ``end``).

    Examples
    --------
    >>> import pandas as pd
    >>> p = Portfolio(accounts=pd.DataFrame({"origination_date": pd.to_datetime(["2024-01-10"])}),
    ...               meta={"data_end": "2024-04-15"})
    >>> month_ends(p).strftime("%Y-%m-%d").tolist()
    ['2024-01-31', '2024-02-29', '2024-03-31']
    """
    if start is None:
        if portfolio.accounts is not None and len(portfolio.accounts):
            start = pd.to_datetime(portfolio.accounts["origination_date"]).min()
        elif portfolio.snapshots is not None and len(portfolio.snapshots):
            start = pd.to_datetime(portfolio.snapshots["month_end"]).min()
        else:
            raise DataError("cannot choose month ends: the portfolio has no accounts")
    end = portfolio.data_end if end is None else pd.Timestamp(end)
    return pd.date_range(pd.Timestamp(start), end, freq="ME")


def build_model_frame(
    portfolio: Portfolio,
    dates: Sequence[Any] | None = None,
    config: Config | None = None,
    progress: bool = False,
    partition_size: int | None = 50_000,
) -> pd.DataFrame:
    """Features and labels of every overdue (account, month end) pair.

    A snapshot-only portfolio (``snapshots`` but no ``schedule``/``payments``: a lender
    with only monthly data) uses :func:`recovery.timeline.snapshot_features.snapshot_features` and
    :func:`recovery.timeline.labels.snapshot_labels` instead.

    Parameters
    ----------
    portfolio : Portfolio
        Event tables (accounts, schedule, payments; actions if available), or
        ``snapshots`` (and optionally ``accounts``) alone.
    dates : sequence of dates, optional
        As-of dates; default every month end up to the data end.
    config : Config, optional
    progress : bool
        Show progress bars (features, then labels).
    partition_size : int, optional
        Accounts per partition of the feature and label builders.

    Returns
    -------
    DataFrame
        One row per overdue pair: ``account_id``, ``as_of``, the features and the label
        columns of :mod:`recovery.timeline.labels` (``p_pay``, ``p_cure``, ``roll_back``,
        ``amount_collected``, censoring flags).
    """
    from recovery.timeline.features import build_features
    from recovery.timeline.labels import build_labels

    config = config or Config()
    dates = month_ends(portfolio) if dates is None else pd.DatetimeIndex(pd.to_datetime(dates))
    if (portfolio.schedule is None or portfolio.payments is None) and (
        portfolio.snapshots is not None
    ):
        from recovery.timeline.labels import snapshot_labels
        from recovery.timeline.snapshot_features import snapshot_features

        features = snapshot_features(portfolio.snapshots, list(dates), config, portfolio.accounts)
        labels = snapshot_labels(
            portfolio.snapshots, features[["account_id", "as_of"]], config, portfolio.data_end
        )
        labels = labels.drop(columns=["overdue"])
        frame = features.merge(labels, on=["account_id", "as_of"], how="left", validate="1:1")
        return frame.reset_index(drop=True)
    features = build_features(
        portfolio, list(dates), config, partition_size=partition_size, progress=progress
    )
    pairs = features[["account_id", "as_of"]]
    labels = build_labels(portfolio, pairs, config, partition_size=partition_size)
    labels = labels.drop(columns=[c for c in ("overdue",) if c in labels.columns])
    frame = features.merge(labels, on=["account_id", "as_of"], how="left", validate="1:1")
    return frame.reset_index(drop=True)


def attach_truth(frame: pd.DataFrame, truth: Any) -> pd.DataFrame:
    """Add the simulator's true probabilities (``p_pay_true``, ``p_cure_true``).

    Parameters
    ----------
    frame : DataFrame
        Rows keyed by ``account_id, as_of`` (month ends).
    truth : Truth or DataFrame
        The simulator's truth (its ``account_months`` table) or that table itself:
        ``account_id, month_end`` and the true probability columns.

    Returns
    -------
    DataFrame
        ``frame`` with the truth columns (NaN where the truth has no row).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"account_id": ["A"], "as_of": pd.to_datetime(["2024-01-31"])})
    >>> t = pd.DataFrame({"account_id": ["A"], "month_end": pd.to_datetime(["2024-01-31"]),
    ...                   "p_pay_true": [0.4]})
    >>> attach_truth(f, t)["p_pay_true"].tolist()
    [0.4]
    """
    table = getattr(truth, "account_months", truth)
    keep = [c for c in table.columns if c.endswith("_true")]
    if not keep:
        raise DataError("the truth table has no *_true columns")
    right = table[["account_id", "month_end", *keep]].rename(columns={"month_end": "as_of"})
    right = right.assign(
        account_id=right["account_id"].astype(str), as_of=pd.to_datetime(right["as_of"])
    )
    left = frame.drop(columns=[c for c in keep if c in frame.columns])
    return left.merge(right, on=["account_id", "as_of"], how="left", validate="m:1")


def training_labels(frame: pd.DataFrame, target: str) -> pd.Series:
    """The label of ``target`` as floats (NaN = not labelled or censored).

    For ``amount`` only rows with a qualifying payment (``p_pay == 1``) keep their
    amount: the amount model is *given payment*.
    """
    column = label_for(target)
    if column not in frame.columns:
        raise DataError(f"the frame has no label column '{column}' for target '{target}'")
    y = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    if target == "amount":
        paid = pd.to_numeric(frame.get("p_pay"), errors="coerce") == 1
        y = y.where(paid)
    return y


def default_test_start(
    frame: pd.DataFrame, target: str, test_months: int = 6, config: Config | None = None
) -> pd.Timestamp:
    """First as-of date of the last ``test_months`` months with matured labels.

    Raises
    ------
    DataError
        When there are not more labelled months than ``test_months``; the message says
        how many months a test could hold out here (keeping at least as many months
        to train on, after the one-horizon gap) and how to fit without a test.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"as_of": pd.date_range("2024-01-31", periods=5, freq="ME"),
    ...                   "p_pay": 1.0})
    >>> default_test_start(f, "p_pay", test_months=2).date()
    datetime.date(2024, 4, 30)
    >>> default_test_start(f, "p_pay", test_months=6)
    Traceback (most recent call last):
    ...
    recovery.errors.DataError: only 5 month(s) with matured 'p_pay' labels, too few for an out-of-time test on the last 6: hold out fewer months (--test-months 2) or fit without a test (--test-months 0); in Python, test_months=2 or test_months=0
    """
    config = config or Config()
    y = training_labels(frame, target)
    dates = np.sort(pd.to_datetime(frame.loc[y.notna(), "as_of"]).unique())
    if test_months < 1:
        raise DataError(f"test_months must be at least 1 for a test, got {test_months}")
    if len(dates) <= test_months:
        # months lost to the gap (a training label must end before the test starts),
        # then as many test months as are left to train on
        gap = int(np.ceil(getattr(config.labels, TARGETS[target]["horizon"]) / 31))
        fewer = (len(dates) - gap) // 2
        options = f"hold out fewer months (--test-months {fewer}) or " if fewer >= 1 else ""
        python = f"test_months={fewer} or " if fewer >= 1 else ""
        raise DataError(
            f"only {len(dates)} month(s) with matured '{target}' labels, too few for an "
            f"out-of-time test on the last {test_months}: {options}fit without a test "
            f"(--test-months 0); in Python, {python}test_months=0"
        )
    return pd.Timestamp(dates[-test_months])


@dataclass
class TrainingResult:
    """A scorer fitted before the test months, and how it did on them.

    Attributes
    ----------
    scorer : Scorer
    target : str
    test_start : Timestamp or None
        First test as-of date; None when trained without a test.
    test : DataFrame
        Test rows with ``score`` (and truth columns when attached).
    metrics : dict
        Overall test metrics.
    report : DataFrame
        Test metrics overall, by stage and by bucket.
    """

    scorer: Scorer
    target: str
    test_start: pd.Timestamp | None
    test: pd.DataFrame
    metrics: dict[str, Any] = field(default_factory=dict)
    report: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def tested(self) -> bool:
        """Whether the scorer was checked on held-out later months (out of time)."""
        return self.test_start is not None and bool(self.metrics)

    def card_metrics(self) -> dict[str, Any]:
        """Metrics for the model card: ``out_of_time_test``, ``test``, ``test_by_segment``."""
        return {
            "out_of_time_test": self.tested,
            "test": self.metrics,
            "test_window": {
                "start": None if self.test_start is None else str(self.test_start.date()),
                "end": str(pd.to_datetime(self.test["as_of"]).max().date())
                if len(self.test)
                else None,
            },
            "test_by_segment": self.report.to_dict(orient="records"),
        }


def train_and_evaluate(
    frame: pd.DataFrame,
    target: str = "p_pay",
    test_start=None,
    test_months: int = 6,
    scorer: Scorer | None = None,
    config: Config | None = None,
) -> TrainingResult:
    """Fit a scorer before the test months and evaluate it on them.

    Parameters
    ----------
    frame : DataFrame
        From :func:`build_model_frame` (optionally with :func:`attach_truth`).
    target : {"p_pay", "p_cure", "roll_back", "amount"}
    test_start : date-like, optional
        First test as-of date; default the last ``test_months`` labelled months.
        ``"none"`` trains on every labelled row (no test).
    test_months : int
        Latest labelled months held out for the test; 0 trains on every labelled
        row, with no test (as ``test_start="none"``; the model card says so).
    scorer : Scorer, optional
        Unfitted scorer (its target is set to ``target``); default
        ``Scorer(target=target, config=config)``.
    config : Config, optional

    Returns
    -------
    TrainingResult

    Raises
    ------
    recovery.errors.MissingColumnError
        ``p_pay`` or ``amount`` asked of a status-only history (no payments).
    """
    config = config or Config()
    paid = [c for c in frame.columns if c.startswith("paid_amount_")]
    if target in ("p_pay", "amount") and len(frame) and paid and frame[paid].isna().all().all():
        # a status-only history: the payment features and p_pay labels cannot exist
        raise MissingColumnError(f"the {target} model", "payments", ["paid_in_month"])
    scorer = Scorer(config=config) if scorer is None else clone(scorer)
    scorer.set_params(target=target)
    if scorer.config is None:
        scorer.set_params(config=config)
    y = training_labels(frame, target)
    horizon = getattr(config.labels, TARGETS[target]["horizon"])
    if scorer.horizon_days is not None:
        horizon = scorer.horizon_days
    if test_months < 0:
        raise DataError(f"test_months must be 0 (no test) or more, got {test_months}")
    no_test = isinstance(test_start, str) and test_start == "none"
    if no_test or (test_start is None and test_months == 0):
        train_mask = np.ones(len(frame), dtype=bool)
        test_mask = np.zeros(len(frame), dtype=bool)
        start = None
    else:
        start = (
            default_test_start(frame, target, test_months, config)
            if test_start is None
            else pd.Timestamp(test_start)
        )
        train_mask, test_mask = out_of_time_masks(frame["as_of"], start, horizon)
    labelled = y.notna().to_numpy()
    train = frame[train_mask & labelled]
    scorer.fit(train, y[train_mask & labelled])
    test = frame[test_mask & labelled].copy()
    result = TrainingResult(scorer, target, start, test)
    if not len(test):
        return result
    test["score"] = scorer.predict(test)
    truth = f"{target}_true" if f"{target}_true" in test.columns else None
    if truth is not None:
        missing = test[truth].isna().to_numpy()
        if missing.all():
            truth = None
        elif missing.any():  # rows the truth does not cover are left out of the test
            test = test[~missing]
    result.test = test
    y_test = training_labels(test, target).to_numpy()
    if scorer.task_ == "binary":
        result.metrics = classification_metrics(
            y_test, test["score"].to_numpy(), test[truth].to_numpy() if truth else None
        )
        scored = test.assign(_y=y_test)
        if "stage" not in scored.columns:
            from recovery.models.design import assign_stage

            scored["stage"] = assign_stage(scored, config).to_numpy()
        result.report = evaluation_report(
            scored, "_y", "score", truth=truth, by=("stage", "bucket")
        )
    else:
        result.metrics = regression_metrics(y_test, test["score"].to_numpy())
    return result


def score_with_monthly_recalibration(
    scorer: Scorer,
    frame: pd.DataFrame,
    target: str,
    lookback_months: int = 3,
    min_rows: int = 200,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Score each month after refitting the scorer's level on the latest matured months.

    The production routine between retrainings: before scoring month end d, the
    labels of the as-of dates with ``as_of + horizon <= d`` have matured; the
    ``lookback_months`` latest of them refit the per-stage offsets
    (:meth:`Scorer.recalibrate`). Only rows known at d are used, so an out-of-time
    evaluation of these scores stays point in time.

    Parameters
    ----------
    scorer : Scorer
        Fitted scorer.
    frame : DataFrame
        All rows (training and test months) with the label columns; rows to score are
        those with an ``as_of`` after the scorer's training window.
    target : str
    lookback_months : int
        Matured as-of dates used for each month's offsets.
    min_rows : int
        Stages with fewer matured rows keep offset 0.

    Returns
    -------
    (ndarray, DataFrame)
        Scores of the rows of ``frame`` after the training window (NaN elsewhere), and
        one row per scored month: ``month``, the matured window used, ``rows`` and the
        offsets per stage.
    """
    horizon = scorer.horizon_days_
    y = training_labels(frame, target)
    as_of = pd.to_datetime(frame["as_of"])
    last_train = pd.Timestamp(scorer.training_window_["last_as_of"])
    out = np.full(len(frame), np.nan)
    log = []
    for month in np.sort(as_of[as_of > last_train].unique()):  # a handful of months
        month = pd.Timestamp(month)
        matured_dates = np.sort(
            as_of[(as_of + pd.Timedelta(days=horizon) <= month) & y.notna()].unique()
        )[-lookback_months:]
        recent = as_of.isin(matured_dates).to_numpy() & y.notna().to_numpy()
        model = scorer.recalibrate(frame[recent], y[recent], min_rows=min_rows)
        rows = (as_of == month).to_numpy()
        out[rows] = model.predict(frame[rows])
        log.append(
            {
                "month": month,
                "matured_from": pd.Timestamp(matured_dates[0]) if len(matured_dates) else pd.NaT,
                "matured_to": pd.Timestamp(matured_dates[-1]) if len(matured_dates) else pd.NaT,
                "rows": int(recent.sum()),
                **{f"offset_{k}": v for k, v in model.offsets_.items()},
            }
        )
    return out, pd.DataFrame(log)
