"""Monitoring a scorer in production: population stability and maturing performance.

**Population stability index** (PSI) of a variable between a reference sample
(training) and a current one (a scoring month)::

    PSI = Σ_b (c_b − r_b) · ln(c_b / r_b)

over bins b, with r_b and c_b the reference and current shares (each floored at
0.0001 so an empty bin stays finite). Numeric bins are the reference deciles (plus a
bin for missing values); categorical bins are the levels (plus missing and "other").
Rule of thumb: < 0.10 stable, 0.10–0.25 watch, > 0.25 shifted.

The reference distribution is stored in the model card (:func:`reference_distribution`),
so a loaded model can be monitored without its training data.

Examples
--------
>>> import numpy as np
>>> from recovery.models.monitoring import population_stability_index
>>> rng = np.random.default_rng(0)
>>> ref = rng.normal(size=5000)
>>> population_stability_index(ref, rng.normal(size=5000)) < 0.02   # same distribution
True
>>> population_stability_index(ref, rng.normal(1.0, 1.0, size=5000)) > 0.25
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from recovery.models.evaluation import classification_metrics

__all__ = [
    "population_stability_index",
    "reference_distribution",
    "stability_by_month",
    "stability_table",
    "score_distribution_by_month",
    "performance_by_month",
    "psi_status",
]

_FLOOR = 1e-4


def _numeric_edges(values: np.ndarray, bins: int) -> list[float]:
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return []
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
    return [float(e) for e in edges]


def _numeric_shares(values: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    values = np.asarray(values, dtype=float)
    index = np.searchsorted(np.asarray(edges, dtype=float), values, side="right")
    index = np.where(np.isnan(values), len(edges) + 1, index)
    counts = np.bincount(index, minlength=len(edges) + 2).astype(float)
    return counts / max(len(values), 1)


def _categorical_shares(values, levels: Sequence[str]) -> np.ndarray:
    series = pd.Series(values).astype("string")
    codes = pd.Categorical(series.astype(object), categories=list(levels)).codes
    index = np.where(
        series.isna().to_numpy(), len(levels), np.where(codes < 0, len(levels) + 1, codes)
    )
    counts = np.bincount(index, minlength=len(levels) + 2).astype(float)
    return counts / max(len(series), 1)


def _psi(reference: np.ndarray, current: np.ndarray) -> float:
    r = np.maximum(np.asarray(reference, float), _FLOOR)
    c = np.maximum(np.asarray(current, float), _FLOOR)
    return float(np.sum((c - r) * np.log(c / r)))


def population_stability_index(reference, current, bins: int = 10) -> float:
    """PSI between two samples of one variable (numeric or categorical).

    Parameters
    ----------
    reference, current : array-like
        The two samples; numeric samples are binned at the reference deciles.
    bins : int
        Number of quantile bins of a numeric variable.

    Returns
    -------
    float
        The index (0 = identical distributions).

    Examples
    --------
    >>> round(population_stability_index(["a", "a", "b", "b"], ["a", "b", "b", "b"]), 4)
    0.2747
    """
    ref = pd.Series(reference)
    cur = pd.Series(current)
    if pd.api.types.is_numeric_dtype(ref.dtype) and not pd.api.types.is_bool_dtype(ref.dtype):
        edges = _numeric_edges(ref.to_numpy(dtype=float), bins)
        return _psi(
            _numeric_shares(ref.to_numpy(float), edges),
            _numeric_shares(pd.to_numeric(cur, errors="coerce").to_numpy(float), edges),
        )
    levels = sorted(str(v) for v in pd.unique(ref.dropna()))
    return _psi(_categorical_shares(ref, levels), _categorical_shares(cur, levels))


def reference_distribution(
    frame: pd.DataFrame,
    spec: Sequence[dict[str, Any]],
    score: np.ndarray | None = None,
    bins: int = 10,
) -> dict[str, Any]:
    """Binned training distribution of each feature (and the score), JSON-ready.

    Parameters
    ----------
    frame : DataFrame
        Training rows.
    spec : sequence of dict
        Feature spec (:func:`recovery.models.design.infer_feature_spec`).
    score : ndarray, optional
        Training scores.
    bins : int
        Quantile bins of numeric variables.

    Returns
    -------
    dict
        ``{"features": {name: {"kind", "edges" | "levels", "shares"}}, "score": {...}}``.

    Examples
    --------
    >>> import pandas as pd
    >>> ref = reference_distribution(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0]}),
    ...                              [{"name": "x", "kind": "numeric"}], bins=2)
    >>> ref["features"]["x"]["edges"], ref["features"]["x"]["shares"]
    ([2.5], [0.5, 0.5, 0.0])
    """
    out: dict[str, Any] = {"features": {}}
    for feature in spec:
        values = frame[feature["name"]]
        if feature["kind"] == "categorical":
            levels = list(feature.get("levels", []))
            shares = _categorical_shares(values, levels)
            out["features"][feature["name"]] = {
                "kind": "categorical",
                "levels": levels,
                "shares": [float(s) for s in shares],
            }
        else:
            arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
            edges = _numeric_edges(arr, bins)
            out["features"][feature["name"]] = {
                "kind": "numeric",
                "edges": edges,
                "shares": [float(s) for s in _numeric_shares(arr, edges)],
            }
    if score is not None:
        arr = np.asarray(score, dtype=float)
        edges = _numeric_edges(arr, bins)
        out["score"] = {
            "kind": "numeric",
            "edges": edges,
            "shares": [float(s) for s in _numeric_shares(arr, edges)],
        }
    return out


def psi_status(psi) -> np.ndarray:
    """``stable`` (< 0.10), ``watch`` (0.10–0.25) or ``shifted`` (> 0.25).

    Examples
    --------
    >>> psi_status([0.05, 0.2, 0.4]).tolist()
    ['stable', 'watch', 'shifted']
    """
    psi = np.asarray(psi, dtype=float)
    return np.where(psi < 0.10, "stable", np.where(psi <= 0.25, "watch", "shifted"))


def stability_by_month(
    scorer, frame: pd.DataFrame, score: np.ndarray | None = None, month: str = "as_of"
) -> pd.DataFrame:
    """PSI of each feature and of the score, training vs each scoring month.

    Parameters
    ----------
    scorer : Scorer
        A fitted or loaded scorer (its ``reference_`` holds the training bins).
    frame : DataFrame
        Feature frame to monitor (several months allowed).
    score : ndarray, optional
        Scores of ``frame``; computed with ``scorer.predict_raw`` when omitted (the
        reference is the uncalibrated training score).
    month : str
        Column that names the month (default the as-of date).

    Returns
    -------
    DataFrame
        ``month``, ``variable`` (a feature or ``score``), ``psi``, ``status``, ``n``.
    """
    reference = scorer.reference_
    if "stage" in reference["features"] and "stage" not in frame.columns:
        from recovery.models.design import assign_stage

        frame = frame.assign(stage=assign_stage(frame, getattr(scorer, "config", None)))
    months = pd.to_datetime(frame[month]).to_numpy()
    unique = np.unique(months)
    rows = []
    variables = dict(reference["features"])
    if "score" in reference:
        variables["score"] = reference["score"]
        if score is None:
            score = scorer.predict_raw(frame)
    for name, ref in variables.items():
        values = score if name == "score" else frame[name]
        for m in unique:  # a handful of months
            mask = months == m
            part = values[mask] if name == "score" else values.loc[mask]
            if ref["kind"] == "categorical":
                current = _categorical_shares(part, ref["levels"])
            else:
                current = _numeric_shares(
                    pd.to_numeric(pd.Series(np.asarray(part)), errors="coerce").to_numpy(float),
                    ref["edges"],
                )
            rows.append(
                {
                    "month": pd.Timestamp(m),
                    "variable": name,
                    "psi": _psi(ref["shares"], current),
                    "n": int(mask.sum()),
                }
            )
    out = pd.DataFrame(rows)
    if len(out):
        out["status"] = psi_status(out["psi"])
    return out


def _is_categorical(values: pd.Series) -> bool:
    dtype = values.dtype
    return not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)


def stability_table(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    variables: Sequence[str],
    by: str | None = None,
    month: str = "as_of",
    bins: int = 10,
    min_rows: int = 50,
) -> pd.DataFrame:
    """PSI of variables for each month (and group) of ``current`` against ``reference``.

    Unlike :func:`stability_by_month`, which compares with the pooled training bins
    stored in a card, the reference here is any frame — the training rows, or a
    recent stable period — and ``by`` compares like with like: each group (e.g. the
    ``stage``) of a month against the same group of the reference, with that group's
    own deciles. A shift inside the small early-stage population then shows even when
    the pooled book (mostly charged-off debt) hides it.

    Parameters
    ----------
    reference, current : DataFrame
        Rows with the ``variables`` (features or a score column) and ``month``.
    variables : sequence of str
        Columns to compare; numbers are binned at the reference group's deciles (plus
        a missing bin), booleans, strings and categories by level.
    by : str, optional
        Grouping column present in both frames.
    month : str
        Month column of ``current``.
    bins : int
        Quantile bins of a numeric variable.
    min_rows : int
        Groups with fewer reference rows are skipped.

    Returns
    -------
    DataFrame
        ``month``, ``group`` (``"all"`` without ``by``), ``variable``, ``psi``,
        ``status``, ``n`` (current rows), ``n_reference``, ``psi_noise``: the PSI
        expected from sampling alone when nothing changed, ≈ (bins − 1)·(1/n +
        1/n_reference) over the bins in use — a small group's PSI is only a signal
        well above it (a month of 150 rows in 10 bins: ≈ 0.06).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"stage": ["early"] * 500 + ["late"] * 500,
    ...                     "x": rng.normal(size=1000)})
    >>> cur = ref.assign(as_of=pd.Timestamp("2025-01-31"))
    >>> cur.loc[cur["stage"] == "early", "x"] += 1.0     # only the early stage moves
    >>> t = stability_table(ref, cur, ["x"], by="stage")
    >>> t.set_index("group")["status"].to_dict()
    {'early': 'shifted', 'late': 'stable'}
    """
    ref_groups = (
        {"all": reference} if by is None else dict(iter(reference.groupby(by, observed=True)))
    )
    cur_months = pd.to_datetime(current[month])
    rows = []
    for group, ref in ref_groups.items():  # a handful of stages
        if len(ref) < min_rows:
            continue
        cur_g = current if by is None else current[current[by] == group]
        months_g = cur_months.loc[cur_g.index]
        for name in variables:
            values = ref[name]
            if _is_categorical(values):
                levels = sorted(str(v) for v in pd.unique(values.dropna()))
                r = _categorical_shares(values, levels)
                shares = lambda part, levels=levels: _categorical_shares(part, levels)  # noqa: E731
            else:
                arr = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
                edges = _numeric_edges(arr, bins)
                r = _numeric_shares(arr, edges)
                shares = lambda part, edges=edges: _numeric_shares(  # noqa: E731
                    pd.to_numeric(part, errors="coerce").to_numpy(dtype=float), edges
                )
            used = max(int((np.asarray(r) > 0).sum()) - 1, 0)
            for m, part in cur_g[name].groupby(months_g.to_numpy(), sort=True):
                rows.append(
                    {
                        "month": pd.Timestamp(m),
                        "group": group,
                        "variable": name,
                        "psi": _psi(r, shares(part)),
                        "n": len(part),
                        "n_reference": len(ref),
                        "psi_noise": used * (1 / max(len(part), 1) + 1 / len(ref)),
                    }
                )
    columns = ["month", "group", "variable", "psi", "n", "n_reference", "psi_noise"]
    out = pd.DataFrame(rows, columns=columns)
    out.insert(4, "status", psi_status(out["psi"]) if len(out) else [])
    return out


def score_distribution_by_month(
    frame: pd.DataFrame,
    score: str,
    by: str | None = None,
    month: str = "as_of",
    quantiles: Sequence[float] = (0.1, 0.25, 0.5, 0.75, 0.9),
) -> pd.DataFrame:
    """Rows, mean and quantiles of a score by month (and group).

    Parameters
    ----------
    frame : DataFrame
        Scored rows.
    score : str
        Score column.
    by : str, optional
        Grouping column (e.g. ``stage``).
    month : str
        Month column.
    quantiles : sequence of float
        Quantiles reported as ``q10``, ``q25``, … columns.

    Returns
    -------
    DataFrame
        ``month``, (``by``), ``n``, ``mean``, ``q10`` ….

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"as_of": pd.to_datetime(["2025-01-31"] * 4),
    ...                   "p": [0.1, 0.2, 0.3, 0.4]})
    >>> score_distribution_by_month(f, "p", quantiles=(0.5,))[["n", "mean", "q50"]].round(2).values.tolist()
    [[4.0, 0.25, 0.25]]
    """
    keys = [pd.to_datetime(frame[month]).rename("month")]
    if by is not None:
        keys.append(frame[by])
    grouped = frame[score].astype(float).groupby(keys, observed=True)
    out = grouped.agg(["size", "mean"]).rename(columns={"size": "n"})
    for q in quantiles:
        out[f"q{round(q * 100):02d}"] = grouped.quantile(q)
    return out.reset_index()


def performance_by_month(
    frame: pd.DataFrame,
    label: str,
    score: str,
    truth: str | None = None,
    censored: str | None = "censored",
    month: str = "as_of",
) -> pd.DataFrame:
    """Performance of a score on each month as its labels mature.

    Rows whose label is missing or flagged censored (its horizon not yet over at the
    data end) are not scored; ``matured_share`` says how much of the month is.

    Parameters
    ----------
    frame : DataFrame
        Scored rows with the label (and optionally the truth and censoring flag).
    label, score : str
        Outcome and score columns.
    truth : str, optional
        True probability column (simulated data).
    censored : str, optional
        Censoring flag column, if present.
    month : str
        Month column.

    Returns
    -------
    DataFrame
        ``month``, ``n``, ``matured``, ``matured_share`` and the metrics of
        :func:`recovery.models.evaluation.classification_metrics` on matured rows.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"as_of": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
    ...                   "y": [0, 1, 1, None], "p": [0.2, 0.7, 0.6, 0.5]})
    >>> performance_by_month(f, "y", "p")[["month", "n", "matured", "auc"]]
           month  n  matured  auc
    0 2024-01-31  2        2  1.0
    1 2024-02-29  2        1  NaN
    """
    months = pd.to_datetime(frame[month])
    matured = frame[label].notna()
    if censored and censored in frame.columns:
        matured &= ~frame[censored].fillna(False).astype(bool)
    rows = []
    for m in np.sort(months.unique()):
        in_month = (months == m).to_numpy()
        part = frame[in_month & matured.to_numpy()]
        metrics = classification_metrics(
            part[label].to_numpy(),
            part[score].to_numpy(),
            part[truth].to_numpy() if truth else None,
        )
        metrics.pop("n")
        rows.append(
            {
                "month": pd.Timestamp(m),
                "n": int(in_month.sum()),
                "matured": len(part),
                "matured_share": len(part) / max(int(in_month.sum()), 1),
                **metrics,
            }
        )
    return pd.DataFrame(rows)
