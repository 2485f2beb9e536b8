"""Agent and channel effectiveness, fairly measured (DESIGN.md §3 "Agent effectiveness").

A raw league table is unfair: senior agents get the hardest cases. For every
assignment spell the outcome in a fixed window (default 60 days from the spell start) is
compared with the outcome *expected for the same account* from a case-mix model that
does not know the agent (trained out of fold on the account's point-in-time features at
assignment). Per agent: observed / expected (O/E), observed − expected per spell with a
confidence interval, an empirical-Bayes shrunk effect for agents with few spells, and a
significance call corrected for multiple comparisons. The naive ranking sits beside it.

The finest unit is the spell-month (:func:`spell_month_outcomes`): whether the account
paid in each month the agent held it, and whether the agent talked with the borrower
that month; counting O − E only in months with a conversation (``through="talked"``)
removes the noise of months the agent could not move. How far a ranking can be trusted
is its **reliability** τ² / (τ² + se²) — reported per agent, as a function of spells per
agent by :func:`reliability_curve`, and turned into the spells needed for a target by
:meth:`AgentEffectiveness.spells_needed`.

Channels are compared the same way (:func:`channel_effectiveness`); both analyses are
observational. Only randomised assignment (:mod:`recovery.operations.experiments`) makes an effect
causal.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> spells = pd.DataFrame({"agent_id": np.repeat(["G1", "G2"], 200),
...     "team": "early", "bucket": "M1",
...     "observed": rng.binomial(1, np.repeat([0.5, 0.3], 200)),
...     "expected": 0.4})
>>> fit = AgentEffectiveness().fit(spells)
>>> fit.summary[["agent_id", "rank_adjusted"]].values.tolist()
[['G1', 1], ['G2', 2]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from recovery.config import Config
from recovery.data.portfolio import Portfolio

__all__ = [
    "spell_outcomes",
    "spell_month_outcomes",
    "spell_case_mix",
    "expected_outcomes",
    "AgentEffectiveness",
    "activity_kpis",
    "channel_effectiveness",
    "plot_funnel",
    "plot_effects",
    "plot_rank_comparison",
    "plot_compliance_heatmap",
    "plot_reliability",
    "reliability_curve",
]

RIGHT_PARTY = ("right_party_contact", "promise_to_pay", "refusal", "dispute", "hardship")


def _net_payments_in_windows(
    windows: pd.DataFrame, payments: pd.DataFrame | None
) -> tuple[np.ndarray, np.ndarray]:
    """Net amount and first payment day per window [start, end) of an account.

    A payment counts when posted in the window and not reversed before the window ends.
    """
    n = len(windows)
    if payments is None or not len(payments) or not n:
        return np.zeros(n), np.full(n, np.nan)
    pay = payments[["account_id", "payment_date", "amount"]].copy()
    rev = (
        payments["reversed_date"]
        if "reversed_date" in payments
        else pd.Series(pd.NaT, index=payments.index)
    )
    pay["reversed_date"] = pd.to_datetime(rev)
    w = windows[["account_id", "start", "end"]].reset_index(drop=True).assign(row=np.arange(n))
    pairs = w.merge(pay, on="account_id", how="inner")
    inside = (pairs["payment_date"] >= pairs["start"]) & (pairs["payment_date"] < pairs["end"])
    kept = pairs["reversed_date"].isna() | (pairs["reversed_date"] >= pairs["end"])
    pairs = pairs[inside & kept]
    amount = pairs.groupby("row")["amount"].sum().reindex(range(n), fill_value=0.0).to_numpy()
    first = (pairs["payment_date"] - pairs["start"]).dt.days.groupby(pairs["row"]).min()
    return amount, first.reindex(range(n)).to_numpy(dtype=float)


def spell_outcomes(portfolio: Portfolio, config: Config | None = None) -> pd.DataFrame:
    """One row per assignment spell with its outcome in a fixed window.

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``assignments``, ``agents`` and ``payments``.
    config : Config, optional
        ``config.analytics.agent_window_days`` (default 60 days) sets the window.

    Returns
    -------
    pandas.DataFrame
        ``spell_id, account_id, agent_id, team, level, is_agency, start_date,
        window_end`` (exclusive), ``censored`` (the window runs past the data end),
        ``amount_collected`` (currency, net of reversals), ``paid`` (0/1),
        ``paying_periods`` (30-day periods of the window with a payment: 0, 1 or 2 for
        60 days), ``days_to_first_payment`` (days, empty when none).

    Examples
    --------
    >>> import sys; sys.path.insert(0, "tests")
    >>> from conftest import tiny_tables
    >>> p = Portfolio(**tiny_tables(), meta={"data_end": "2024-06-30"})
    >>> spell_outcomes(p)[["agent_id", "amount_collected", "paid"]].values.tolist()
    [['G1', 700.0, 1]]
    """
    config = config or Config()
    window = pd.Timedelta(days=config.analytics.agent_window_days)
    spells = portfolio.assignments.copy().reset_index(drop=True)
    spells["start"] = pd.to_datetime(spells["start_date"])
    spells["end"] = spells["start"] + window
    amount, first = _net_payments_in_windows(spells, portfolio.payments)
    # paying periods: 30-day periods of the window with a net payment (more information
    # per spell than a single paid / not paid)
    periods = np.zeros(len(spells), dtype=int)
    for k in range(int(np.ceil(config.analytics.agent_window_days / 30))):
        lo = spells["start"] + pd.Timedelta(days=30 * k)
        hi = np.minimum(lo + pd.Timedelta(days=30), spells["end"])
        part, _ = _net_payments_in_windows(
            pd.DataFrame({"account_id": spells["account_id"], "start": lo, "end": hi}),
            portfolio.payments,
        )
        periods += part > 0
    agents = portfolio.agents.set_index("agent_id")
    out = pd.DataFrame(
        {
            "spell_id": np.arange(len(spells)),
            "account_id": spells["account_id"].astype(str),
            "agent_id": spells["agent_id"].astype(str),
            "team": spells["agent_id"].map(agents["team"]),
            "level": spells["agent_id"].map(agents["level"]),
            "is_agency": spells["agent_id"].map(agents["is_agency"]).fillna(False).astype(bool)
            if "is_agency" in agents
            else False,
            "start_date": spells["start"],
            "window_end": spells["end"],
            "censored": (spells["end"] - pd.Timedelta(days=1)) > portfolio.data_end,
            "amount_collected": amount,
            "paid": (amount > 0).astype(int),
            "paying_periods": periods,
            "days_to_first_payment": first,
        }
    )
    return out


def spell_month_outcomes(
    portfolio: Portfolio, config: Config | None = None, window_months: int | None = None
) -> pd.DataFrame:
    """One row per assignment spell and calendar month of its window while it is open.

    A finer unit than :func:`spell_outcomes`: the outcome of each month the agent held
    the account (a payment or not), and whether the agent **talked with the borrower**
    that month. Months after the spell ends belong to the next holder and are left
    out, so a month's outcome is credited to the agent who held the account then.

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``assignments``, ``agents``, ``payments``; ``actions`` for conversations.
    config : Config, optional
        ``config.analytics.agent_window_days`` sets the default window.
    window_months : int, optional
        Calendar months from the spell's first month (default
        ``ceil(agent_window_days / 30)``: 2 months for 60 days).

    Returns
    -------
    pandas.DataFrame
        ``spell_id`` (as in :func:`spell_outcomes`), ``account_id, agent_id, team,
        level, is_agency, start_date`` (of the spell), ``month_index`` (0 = the spell's
        first month), ``period_start``, ``period_end`` (exclusive: the part of the
        calendar month inside the spell), ``amount_collected`` (currency, net of
        reversals before the period end), ``paid`` (0/1), ``attempts`` and
        ``conversations`` (contact attempts by the spell's agent, and those reaching the
        borrower: right-party contact, promise, refusal, dispute, hardship), ``talked``
        (bool). Only periods that end on or before the data end.

    Examples
    --------
    >>> import sys; sys.path.insert(0, "tests")
    >>> from conftest import tiny_tables
    >>> p = Portfolio(**tiny_tables(), meta={"data_end": "2024-04-30"})
    >>> m = spell_month_outcomes(p)
    >>> m[["month_index", "paid", "conversations"]].values.tolist()
    [[0, 0, 1], [1, 1, 0]]
    """
    config = config or Config()
    if window_months is None:
        window_months = int(np.ceil(config.analytics.agent_window_days / 30))
    if window_months < 1:
        raise ValueError(f"window_months must be at least 1, got {window_months}")
    spells = portfolio.assignments.copy().reset_index(drop=True)
    spells["spell_id"] = np.arange(len(spells))
    start = pd.to_datetime(spells["start_date"])
    data_end = portfolio.data_end
    # the spell's last day (inclusive); an open spell runs to the data end
    last = pd.to_datetime(spells["end_date"]).fillna(data_end).clip(upper=data_end)
    # calendar months from the spell's first to its last day, both counted (vectorised)
    n_months = (
        (last.dt.year - start.dt.year) * 12 + (last.dt.month - start.dt.month)
    ).to_numpy() + 1
    n_months = np.clip(n_months, 0, window_months)
    rows = spells.loc[spells.index.repeat(n_months)].reset_index(drop=True)
    k = rows.groupby("spell_id").cumcount().to_numpy()
    month = (rows["start_date"].dt.to_period("M") + k).dt.start_time
    period_start = np.maximum(month, pd.to_datetime(rows["start_date"]))
    next_month = month + pd.offsets.MonthBegin(1)
    spell_last = last.reindex(rows["spell_id"].to_numpy()).to_numpy()
    period_end = np.minimum(next_month, spell_last + np.timedelta64(1, "D"))
    rows = rows.assign(month_index=k, period_start=period_start, period_end=period_end)
    # a period counts when it is fully observed: the calendar month ended by the data
    # end, or the spell itself ended inside it (on or before the data end)
    ended = pd.to_datetime(rows["end_date"])
    ended_here = ended.notna() & (ended <= data_end) & (ended < next_month)
    complete = (next_month - pd.Timedelta(days=1) <= data_end) | ended_here
    rows = rows[complete.to_numpy() & (rows["period_end"] > rows["period_start"])]
    rows = rows.reset_index(drop=True)
    windows = rows.rename(columns={"period_start": "start", "period_end": "end"})
    amount, _ = _net_payments_in_windows(windows, portfolio.payments)
    attempts = np.zeros(len(rows))
    talks = np.zeros(len(rows))
    acts = portfolio.actions
    if acts is not None and len(acts) and len(rows):
        key = rows[["account_id", "agent_id", "period_start", "period_end"]].assign(
            row=np.arange(len(rows)), month=rows["period_start"].dt.to_period("M")
        )
        a = acts[["account_id", "agent_id", "ts", "outcome"]].assign(
            month=acts["ts"].dt.to_period("M")
        )
        pairs = key.merge(a, on=["account_id", "agent_id", "month"], how="inner")
        inside = (pairs["ts"] >= pairs["period_start"]) & (pairs["ts"] < pairs["period_end"])
        pairs = pairs[inside]
        attempts = pairs.groupby("row").size().reindex(range(len(rows)), fill_value=0)
        talks = (pairs["outcome"].isin(RIGHT_PARTY).groupby(pairs["row"]).sum()).reindex(
            range(len(rows)), fill_value=0
        )
        attempts, talks = attempts.to_numpy(), talks.to_numpy()
    agents = portfolio.agents.set_index("agent_id")
    return pd.DataFrame(
        {
            "spell_id": rows["spell_id"].to_numpy(),
            "account_id": rows["account_id"].astype(str).to_numpy(),
            "agent_id": rows["agent_id"].astype(str).to_numpy(),
            "team": rows["agent_id"].map(agents["team"]).to_numpy(),
            "level": rows["agent_id"].map(agents["level"]).to_numpy(),
            "is_agency": rows["agent_id"].map(agents["is_agency"]).fillna(False).astype(bool)
            if "is_agency" in agents
            else False,
            "start_date": pd.to_datetime(rows["start_date"]).to_numpy(),
            "month_index": rows["month_index"].to_numpy(),
            "period_start": rows["period_start"].to_numpy(),
            "period_end": rows["period_end"].to_numpy(),
            "amount_collected": amount,
            "paid": (amount > 0).astype(int),
            "attempts": attempts.astype(int),
            "conversations": talks.astype(int),
            "talked": talks > 0,
        }
    )


def spell_case_mix(
    portfolio: Portfolio, spells: pd.DataFrame, config: Config | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Point-in-time case mix of each spell: the account's features the day before it.

    Parameters
    ----------
    portfolio : Portfolio
    spells : pandas.DataFrame
        From :func:`spell_outcomes` (``account_id``, ``start_date``).
    config : Config, optional

    Returns
    -------
    (pandas.DataFrame, pandas.DataFrame)
        The spells with ``bucket`` at assignment added, and the case-mix features aligned
        row by row with them (no agent, team, level or key columns), ready for
        :func:`expected_outcomes`.
    """
    from recovery.timeline.features import build_features

    spells = spells.reset_index(drop=True).copy()
    as_of = pd.to_datetime(spells["start_date"]) - pd.Timedelta(days=1)
    pairs = pd.DataFrame({"account_id": spells["account_id"], "as_of": as_of})
    features = build_features(portfolio, pairs.drop_duplicates(), config)
    aligned = pairs.merge(features, on=["account_id", "as_of"], how="left")
    if "bucket" in aligned and "bucket" not in spells:
        spells["bucket"] = aligned["bucket"].astype(str).to_numpy()
    banned = ["agent_id", "team", "level", "is_agency", "account_id", "as_of"]
    return spells, aligned.drop(columns=[c for c in banned if c in aligned.columns])


def expected_outcomes(
    spells: pd.DataFrame,
    features: pd.DataFrame,
    outcome: str = "paid",
    estimator: Any = None,
    n_folds: int = 5,
    random_state: int = 0,
) -> np.ndarray:
    """Out-of-fold expected outcome of each spell from a model that ignores the agent.

    Parameters
    ----------
    spells : pandas.DataFrame
        From :func:`spell_outcomes` (its ``outcome`` column is the target).
    features : pandas.DataFrame
        Point-in-time features of each spell's account at assignment, aligned row by
        row with ``spells`` (e.g. :func:`recovery.timeline.features.build_features` at the day
        before ``start_date``). Agent, team and level columns must not be in it.
    outcome : {"paid", "paying_periods", "amount_collected"}
    estimator : scikit-learn estimator, optional
        Defaults to a LightGBM classifier (``paid``) or regressor (counts, amounts).
    n_folds : int
        Cross-fitting folds, split by account so an account's spells share a fold.
    random_state : int

    Returns
    -------
    numpy.ndarray
        Expected outcome per spell (probability of payment, or currency).
    """
    from sklearn.base import clone
    from sklearn.model_selection import GroupKFold

    banned = {"agent_id", "team", "level", "is_agency"}
    leaked = banned & set(features.columns)
    if leaked:
        raise ValueError(f"case-mix features must not know the agent: drop {sorted(leaked)}")
    X = features.drop(columns=[c for c in ("account_id", "as_of") if c in features.columns])
    X = X.copy()
    for col in X.columns:
        if X[col].dtype == object or str(X[col].dtype) in ("string", "category"):
            X[col] = X[col].astype("category")
        elif X[col].dtype == bool:
            X[col] = X[col].astype(int)
    y = spells[outcome].to_numpy(dtype=float)
    if estimator is None:
        import lightgbm as lgb

        params = dict(
            n_estimators=200,
            learning_rate=0.05,
            num_leaves=15,
            min_child_samples=40,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            random_state=random_state,
            deterministic=True,
            n_jobs=1,
            verbose=-1,
        )
        estimator = (
            lgb.LGBMClassifier(**params) if outcome == "paid" else lgb.LGBMRegressor(**params)
        )
    groups = spells["account_id"].to_numpy()
    folds = GroupKFold(n_splits=min(n_folds, len(np.unique(groups))))
    expected = np.zeros(len(y))
    for train, test in folds.split(X, y, groups):
        model = clone(estimator).fit(X.iloc[train], y[train])
        if outcome == "paid":
            expected[test] = model.predict_proba(X.iloc[test])[:, 1]
        else:
            expected[test] = np.clip(model.predict(X.iloc[test]), 0, None)
    return expected


class AgentEffectiveness:
    """Case-mix adjusted agent effects: O/E, intervals, shrinkage, significance.

    Parameters
    ----------
    confidence : float
        Level of the intervals (default 0.95).
    min_spells : int
        Agents with fewer spells are reported but not ranked.
    alpha : float
        False-discovery rate of the significance call (Benjamini–Hochberg).
    strata : tuple of str
        Columns within which agents are compared with their peers (team × bucket).
        The first one (``team``) also groups the empirical-Bayes prior: the spread of
        true effects is estimated per team when it has at least 3 ranked agents.
    through : str, optional
        A boolean column (e.g. ``talked`` from :func:`spell_month_outcomes`): rows
        where it is False count with O − E = 0. Use it when the agent can only act
        through it (their skill shows in conversations with the borrower): it removes
        the noise of rows the agent could not influence without changing the
        estimand — it assumes the agent does not change whether the row is True.
    cluster : str
        Column naming the spell of each row (default ``spell_id``): when rows are
        spell-months, standard errors are computed over spells (months of a spell are
        not independent) and ``spells`` counts spells. Ignored when absent.

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per agent (see :meth:`fit`).
    tau2_ : float
        Between-agent variance of the true effect over all ranked agents (per-row
        units squared), by the method of moments.
    tau2_by_group_ : dict
        The same per team (the prior actually used for shrinkage).
    spells_ : pandas.DataFrame
        The rows used, with ``o_minus_e`` and ``o_minus_e_vs_peers``.
    """

    def __init__(
        self,
        confidence: float = 0.95,
        min_spells: int = 30,
        alpha: float = 0.05,
        strata: tuple[str, ...] = ("team", "bucket"),
        through: str | None = None,
        cluster: str = "spell_id",
    ) -> None:
        self.confidence = confidence
        self.min_spells = min_spells
        self.alpha = alpha
        self.strata = strata
        self.through = through
        self.cluster = cluster

    def fit(self, spells: pd.DataFrame) -> AgentEffectiveness:
        """Estimate effects from spells with ``observed`` and ``expected`` outcomes.

        Parameters
        ----------
        spells : pandas.DataFrame
            One row per spell (or spell-month): ``agent_id``, ``observed`` (outcome),
            ``expected`` (case-mix expectation, :func:`expected_outcomes`), the
            ``strata`` columns and, when used, the ``through`` and ``cluster`` columns.

        Returns
        -------
        AgentEffectiveness
            ``self``, with ``summary`` per agent: ``agent_id, team, spells, rows,
            observed, expected, o_e_ratio`` (+ interval), ``effect`` (mean O − E per
            row, + interval), ``se`` (its standard error), ``effect_vs_peers`` (O − E
            relative to the team × bucket cell), ``reliability`` (share of the
            variance of ``effect_vs_peers`` across agents that is true difference,
            τ² / (τ² + se²); also the ``shrinkage_weight``), ``shrunk_effect``
            (``effect_vs_peers`` shrunk by empirical Bayes: the ranked quantity),
            ``p_value``, ``q_value``, ``verdict`` (better / worse / not different),
            ``naive_rate``, ``rank_naive``, ``rank_adjusted``.
        """
        df = spells.copy()
        df["o_minus_e"] = df["observed"] - df["expected"]
        if self.through is not None:
            if self.through not in df:
                raise ValueError(f"through={self.through!r}: no such column in the spells")
            df["o_minus_e"] = df["o_minus_e"].where(df[self.through].astype(bool), 0.0)
        strata = [c for c in self.strata if c in df.columns]
        if strata:
            cell = df.groupby(strata, dropna=False, observed=True)["o_minus_e"].transform("mean")
            df["o_minus_e_vs_peers"] = df["o_minus_e"] - cell
        else:
            df["o_minus_e_vs_peers"] = df["o_minus_e"]
        clustered = self.cluster in df.columns and df[self.cluster].duplicated().any()
        unit = df[self.cluster] if clustered else pd.Series(np.arange(len(df)), index=df.index)
        g = df.groupby("agent_id")
        out = pd.DataFrame(
            {
                "spells": g.size() if not clustered else unit.groupby(df["agent_id"]).nunique(),
                "rows": g.size(),
                "observed": g["expected"].sum() + g["o_minus_e"].sum(),
                "expected": g["expected"].sum(),
                "effect": g["o_minus_e"].mean(),
                "effect_vs_peers": g["o_minus_e_vs_peers"].mean(),
                "naive_rate": g["observed"].mean(),
            }
        )
        if "team" in df:
            out.insert(
                0, "team", g["team"].agg(lambda s: s.mode().iat[0] if len(s.mode()) else None)
            )
        # standard error of a mean over rows, with rows grouped in clusters (spells):
        # sqrt(sum over clusters of (sum of deviations)^2 * c / (c - 1)) / rows
        dev = df["o_minus_e"] - df["agent_id"].map(out["effect"])
        per_unit = dev.groupby([df["agent_id"], unit]).sum()
        n_units = per_unit.groupby(level=0).size()
        ss = (per_unit**2).groupby(level=0).sum()
        sd_unit = np.sqrt(ss / (n_units - 1).where(n_units > 1))  # spread of a unit's sum
        pooled = float(np.sqrt((per_unit**2).sum() / max(len(per_unit) - 1, 1)))
        # a floor on the spread keeps tiny agents with identical outcomes from looking certain
        sd_unit = sd_unit.reindex(out.index).fillna(pooled).clip(lower=0.25 * pooled)
        out["se"] = sd_unit * np.sqrt(out["spells"]) / out["rows"]
        z = stats.norm.ppf(0.5 + self.confidence / 2)
        out["effect_low"] = out["effect"] - z * out["se"]
        out["effect_high"] = out["effect"] + z * out["se"]
        mean_expected = out["expected"] / out["rows"]
        out["o_e_ratio"] = out["observed"] / out["expected"]
        out["o_e_low"] = 1 + out["effect_low"] / mean_expected
        out["o_e_high"] = 1 + out["effect_high"] / mean_expected
        # empirical Bayes: effect_a ~ N(0, tau2) within a team; tau2 by the method of moments
        ranked = out["spells"] >= self.min_spells
        base = out[ranked] if ranked.sum() >= 3 else out
        self.tau2_ = _between_variance(base)
        group = out["team"] if "team" in out else pd.Series("all", index=out.index)
        self.tau2_by_group_ = {}
        for name, members in base.groupby(group.reindex(base.index)):
            self.tau2_by_group_[name] = (
                _between_variance(members) if len(members) >= 3 else self.tau2_
            )
        tau2 = group.map(self.tau2_by_group_).fillna(self.tau2_).astype(float)
        weight = (tau2 / (tau2 + out["se"] ** 2)).where(tau2 > 0, 0.0)
        out["reliability"] = weight
        out["shrinkage_weight"] = weight
        out["shrunk_effect"] = weight * out["effect_vs_peers"]
        out["p_value"] = 2 * stats.norm.sf(np.abs(out["effect"] / out["se"]))
        out["q_value"] = _benjamini_hochberg(out["p_value"].to_numpy())
        out["verdict"] = np.where(
            out["q_value"] < self.alpha,
            np.where(out["effect"] > 0, "better than expected", "worse than expected"),
            "not different",
        )
        out["ranked"] = ranked
        out["rank_naive"] = out["naive_rate"].where(ranked).rank(ascending=False, method="min")
        out["rank_adjusted"] = (
            out["shrunk_effect"].where(ranked).rank(ascending=False, method="min")
        )
        for col in ("rank_naive", "rank_adjusted"):
            out[col] = out[col].astype("Int64")
        self.spells_ = df
        self.summary_ = (
            out.reset_index().sort_values(["rank_adjusted", "agent_id"]).reset_index(drop=True)
        )
        return self

    @property
    def summary(self) -> pd.DataFrame:
        """Per-agent table (see :meth:`fit`)."""
        return self.summary_

    def spells_needed(self, reliability: float = 0.9) -> pd.DataFrame:
        """Spells per agent needed for a ranking of a given reliability, per team.

        The standard error of an agent's effect falls as 1/√spells, so an agent with
        ``n`` spells and standard error ``se`` reaches reliability ``R`` =
        τ² / (τ² + se²) with ``n · se² / τ² · R / (1 − R)`` spells.

        Parameters
        ----------
        reliability : float
            Target share of true variance in the ranked effects (0–1).

        Returns
        -------
        pandas.DataFrame
            Per team: ``ranked_agents``, ``median_spells`` now, ``median_reliability``
            now, ``tau`` (spread of true effects, per-row units), ``spells_needed``
            (median over the team's ranked agents; infinite when τ² = 0).

        Examples
        --------
        >>> rng = np.random.default_rng(0)
        >>> true = np.repeat(rng.normal(0, 0.05, 20), 400)
        >>> rows = pd.DataFrame({"agent_id": np.repeat([f"G{i}" for i in range(20)], 400),
        ...     "team": "early", "observed": rng.binomial(1, 0.5 + true), "expected": 0.5})
        >>> need = AgentEffectiveness().fit(rows).spells_needed(0.9)
        >>> bool(need.loc["early", "spells_needed"] > 400)
        True
        """
        if not 0 < reliability < 1:
            raise ValueError(f"reliability must be in (0, 1), got {reliability}")
        s = self.summary_[self.summary_["ranked"]]
        team = s["team"] if "team" in s else pd.Series("all", index=s.index)
        rows = []
        for name, g in s.groupby(team):
            tau2 = self.tau2_by_group_.get(name, self.tau2_)
            need = (
                g["spells"] * g["se"] ** 2 / tau2 * reliability / (1 - reliability)
                if tau2 > 0
                else pd.Series(np.inf, index=g.index)
            )
            rows.append(
                {
                    "team": name,
                    "ranked_agents": len(g),
                    "median_spells": float(g["spells"].median()),
                    "median_reliability": float(g["reliability"].median()),
                    "tau": float(np.sqrt(tau2)),
                    "spells_needed": float(np.ceil(need.median())),
                }
            )
        return pd.DataFrame(rows).set_index("team")

    def plot_funnel(self, ax=None):
        """Funnel plot of this fit (see :func:`plot_funnel`)."""
        return plot_funnel(self.summary, ax=ax, confidence=self.confidence)

    def plot_effects(self, ax=None):
        """O/E with intervals (see :func:`plot_effects`)."""
        return plot_effects(self.summary, ax=ax)


def _between_variance(summary: pd.DataFrame) -> float:
    """Method-of-moments variance of true effects: var(estimates) − mean(se²), ≥ 0."""
    if len(summary) < 2:
        return 0.0
    return max(0.0, float(summary["effect_vs_peers"].var(ddof=1) - (summary["se"] ** 2).mean()))


def reliability_curve(
    spells: pd.DataFrame,
    fractions: tuple[float, ...] = (0.1, 0.2, 0.35, 0.5, 0.75, 1.0),
    repeats: int = 5,
    truth: pd.Series | None = None,
    random_state: int = 0,
    **fit_params: Any,
) -> pd.DataFrame:
    """How reliable an agent ranking is for a given number of spells per agent.

    Keeps a random share of each agent's spells (all rows of a kept spell), refits
    :class:`AgentEffectiveness` and records the reliability of the ranked agents'
    effects (τ² / (τ² + se²), estimable from the data alone) and, when the true
    effects are known (simulation), the Spearman correlation with them.

    Parameters
    ----------
    spells : pandas.DataFrame
        As for :meth:`AgentEffectiveness.fit` (with ``observed`` and ``expected``).
    fractions : tuple of float
        Shares of each agent's spells to keep (0–1].
    repeats : int
        Random subsamples per share (averaged).
    truth : pandas.Series, optional
        True effect per ``agent_id`` (e.g. the simulator's ``effect_vs_average``).
    random_state : int
    **fit_params
        Passed to :class:`AgentEffectiveness` (``min_spells``, ``through``, …). The
        agents ranked on all spells are followed at every share.

    Returns
    -------
    pandas.DataFrame
        Per share and team (and ``all``): ``fraction, team, agents, spells_per_agent``
        (median), ``median_se, tau, reliability`` (median over agents), ``expected_spearman``
        (Spearman implied by that reliability for normal effects: 6/π·asin(√R / 2)) and
        ``spearman_vs_truth`` (mean over repeats, when ``truth`` is given).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> true = pd.Series(rng.normal(0, 0.05, 10), index=[f"G{i}" for i in range(10)])
    >>> rows = pd.DataFrame({"agent_id": np.repeat(true.index, 300), "team": "early",
    ...     "expected": 0.5})
    >>> rows["observed"] = rng.binomial(1, 0.5 + true[rows["agent_id"]].to_numpy())
    >>> c = reliability_curve(rows, fractions=(0.2, 1.0), repeats=2, truth=true)
    >>> r = c[c["team"] == "early"].set_index("fraction")["reliability"]
    >>> bool(r[0.2] < r[1.0])
    True
    """
    full = AgentEffectiveness(**fit_params).fit(spells)
    followed = full.summary.loc[full.summary["ranked"], "agent_id"]
    params = {**fit_params, "min_spells": 1}
    cluster = params.get("cluster", "spell_id")
    df = spells[spells["agent_id"].isin(followed)].reset_index(drop=True)
    unit = df[cluster] if cluster in df else pd.Series(np.arange(len(df)))
    units = pd.DataFrame({"agent_id": df["agent_id"], "unit": unit}).drop_duplicates()
    rng = np.random.default_rng(random_state)
    records = []
    for fraction in fractions:
        if not 0 < fraction <= 1:
            raise ValueError(f"fractions must be in (0, 1], got {fraction}")
        for rep in range(repeats if fraction < 1 else 1):
            u = rng.random(len(units))
            rank = units.assign(u=u).groupby("agent_id")["u"].rank(method="first")
            size = units.groupby("agent_id")["unit"].transform("size")
            keep_units = units[rank <= np.maximum(np.ceil(fraction * size), 1)]
            chosen = pd.MultiIndex.from_frame(keep_units[["agent_id", "unit"]])
            kept = df[pd.MultiIndex.from_arrays([df["agent_id"], unit]).isin(chosen)]
            fit = AgentEffectiveness(**params).fit(kept)
            s = fit.summary.set_index("agent_id")
            team = s["team"] if "team" in s else pd.Series("all", index=s.index)
            groups = [("all", s.index)] + [(t, g.index) for t, g in s.groupby(team)]
            if team.nunique() == 1 and "team" in s:
                groups = groups[1:]
            for name, idx in groups:
                g = s.loc[idx]
                tau2 = fit.tau2_ if name == "all" else fit.tau2_by_group_.get(name, fit.tau2_)
                rel = float(g["reliability"].median())
                row = {
                    "fraction": fraction,
                    "repeat": rep,
                    "team": name,
                    "agents": len(g),
                    "spells_per_agent": float(g["spells"].median()),
                    "median_se": float(g["se"].median()),
                    "tau": float(np.sqrt(tau2)),
                    "reliability": rel,
                    "expected_spearman": float(6 / np.pi * np.arcsin(np.sqrt(rel) / 2)),
                }
                if truth is not None:
                    t = truth.reindex(g.index)
                    ok = t.notna()
                    est = g.loc[ok, "effect_vs_peers"]
                    varies = ok.sum() > 2 and est.nunique() > 1 and t[ok].nunique() > 1
                    row["spearman_vs_truth"] = (
                        float(stats.spearmanr(est, t[ok]).statistic) if varies else np.nan
                    )
                records.append(row)
    out = pd.DataFrame(records)
    return (
        out.drop(columns="repeat")
        .groupby(["fraction", "team"], sort=True)
        .mean()
        .reset_index()
        .astype({"agents": int})
    )


def _benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    n = len(p)
    if n == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * n / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def activity_kpis(portfolio: Portfolio, config: Config | None = None) -> pd.DataFrame:
    """Activity per agent and month (seed 004: how collectors' work is judged).

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``actions``, ``assignments``, ``agents`` and ``payments``.
    config : Config, optional
        Channel costs (``config.costs.per_action``, currency) and the promise grace
        (``config.labels.promise_grace_days``).

    Returns
    -------
    pandas.DataFrame
        One row per agent × month: ``agent_id, team, month, accounts_held,
        attempts, right_party_rate, promises_per_contact, promise_kept_rate,
        amount_collected`` (payments on accounts while assigned to the agent, currency),
        ``payers`` (accounts paying), ``days_to_first_payment`` (mean, days, for spells
        starting that month), ``cost`` (currency), ``cost_per_unit_collected``.

    Examples
    --------
    >>> import sys; sys.path.insert(0, "tests")
    >>> from conftest import tiny_tables
    >>> p = Portfolio(**tiny_tables(), meta={"data_end": "2024-04-30"})
    >>> k = activity_kpis(p)
    >>> k[["month", "attempts", "amount_collected"]].astype(str).values.tolist()
    [['2024-03', '2', '0.0'], ['2024-04', '0', '700.0']]
    """
    config = config or Config()
    acts = portfolio.actions.copy()
    acts["month"] = acts["ts"].dt.to_period("M")
    acts["cost"] = acts["channel"].map(config.costs.per_action).fillna(0.0)
    acts["rpc"] = acts["outcome"].isin(RIGHT_PARTY)
    acts["ptp"] = acts["outcome"].eq("promise_to_pay")
    acts["kept"] = _promises_kept(acts, portfolio.payments, config)
    by = acts.groupby(["agent_id", "month"])
    activity = pd.DataFrame(
        {
            "attempts": by.size(),
            "right_party_contacts": by["rpc"].sum(),
            "promises": by["ptp"].sum(),
            "promises_kept": by["kept"].sum(),
            "cost": by["cost"].sum(),
        }
    )
    # spells × months they cover, and payments received while the spell was open
    spells = portfolio.assignments.copy()
    spells["end"] = spells["end_date"].fillna(portfolio.data_end)
    months = pd.period_range(spells["start_date"].min(), spells["end"].max(), freq="M")
    grid = spells.merge(pd.DataFrame({"month": months}), how="cross")
    grid = grid[
        (grid["month"].dt.start_time <= grid["end"])
        & (grid["month"].dt.end_time >= grid["start_date"])
    ]
    grid["start"] = np.maximum(grid["start_date"], grid["month"].dt.start_time)
    grid["stop"] = np.minimum(grid["end"], grid["month"].dt.end_time.dt.normalize()) + pd.Timedelta(
        days=1
    )
    windows = pd.DataFrame(
        {"account_id": grid["account_id"], "start": grid["start"], "end": grid["stop"]}
    )
    amount, _ = _net_payments_in_windows(windows, portfolio.payments)
    grid["collected"] = amount
    held = grid.groupby(["agent_id", "month"]).agg(
        accounts_held=("account_id", "nunique"),
        amount_collected=("collected", "sum"),
        payers=("collected", lambda s: int((s > 0).sum())),
    )
    outcomes = spell_outcomes(portfolio, config)
    outcomes["month"] = outcomes["start_date"].dt.to_period("M")
    first = outcomes.groupby(["agent_id", "month"])["days_to_first_payment"].mean()
    out = held.join(activity, how="outer").join(first, how="left")
    fill = [
        "attempts",
        "right_party_contacts",
        "promises",
        "promises_kept",
        "cost",
        "accounts_held",
        "amount_collected",
        "payers",
    ]
    out[fill] = out[fill].fillna(0)
    out["right_party_rate"] = out["right_party_contacts"] / out["attempts"].where(
        out["attempts"] > 0
    )
    out["promises_per_contact"] = out["promises"] / out["right_party_contacts"].where(
        out["right_party_contacts"] > 0
    )
    out["promise_kept_rate"] = out["promises_kept"] / out["promises"].where(out["promises"] > 0)
    out["cost_per_unit_collected"] = out["cost"] / out["amount_collected"].where(
        out["amount_collected"] > 0
    )
    out = out.reset_index()
    out.insert(1, "team", out["agent_id"].map(portfolio.agents.set_index("agent_id")["team"]))
    out["month"] = out["month"].astype(str)
    int_cols = [
        "attempts",
        "right_party_contacts",
        "promises",
        "promises_kept",
        "accounts_held",
        "payers",
    ]
    out[int_cols] = out[int_cols].astype(int)
    return out.sort_values(["agent_id", "month"]).reset_index(drop=True)


def _promises_kept(acts: pd.DataFrame, payments: pd.DataFrame | None, config: Config) -> np.ndarray:
    """A promise is kept when its amount arrives between the promise and its date + grace."""
    is_ptp = acts["outcome"].eq("promise_to_pay") & acts["promise_date"].notna()
    if not is_ptp.any() or payments is None:
        return np.zeros(len(acts), dtype=bool)
    grace = pd.Timedelta(days=config.labels.promise_grace_days)
    ptp = acts.loc[is_ptp, ["account_id", "ts", "promise_date", "promise_amount"]]
    windows = pd.DataFrame(
        {
            "account_id": ptp["account_id"].to_numpy(),
            "start": ptp["ts"].dt.normalize().to_numpy(),
            "end": (ptp["promise_date"] + grace + pd.Timedelta(days=1)).to_numpy(),
        }
    )
    amount, _ = _net_payments_in_windows(windows, payments)
    promised = ptp["promise_amount"].fillna(0).to_numpy()
    kept = np.zeros(len(acts), dtype=bool)
    kept[np.flatnonzero(is_ptp.to_numpy())] = (amount > 0) & (
        amount >= promised - config.aging.tolerance
    )
    return kept


def channel_effectiveness(
    actions: pd.DataFrame,
    payments: pd.DataFrame,
    features: pd.DataFrame,
    window_days: int = 30,
    confidence: float = 0.95,
    random_state: int = 0,
) -> pd.DataFrame:
    """Observed vs case-mix expected payment rate after each channel, by bucket.

    Observational, not causal: channels are chosen for accounts by policy. Use a
    randomised test (:mod:`recovery.operations.experiments`) to measure a channel's causal uplift.

    Parameters
    ----------
    actions : pandas.DataFrame
        One row per treated account-episode: ``account_id, ts, channel`` (e.g. the first
        action of each channel per account and month).
    payments : pandas.DataFrame
    features : pandas.DataFrame
        Point-in-time features of each action's account the day before it, aligned row
        by row with ``actions``, including ``bucket``.
    window_days : int
        Outcome window after the action (days).

    Returns
    -------
    pandas.DataFrame
        Per channel × bucket: ``actions, observed_rate, expected_rate, o_e_ratio,
        difference`` (+ interval).
    """
    start = actions["ts"].dt.normalize()
    windows = pd.DataFrame(
        {
            "account_id": actions["account_id"].to_numpy(),
            "start": start.to_numpy(),
            "end": (start + pd.Timedelta(days=window_days)).to_numpy(),
        }
    )
    amount, _ = _net_payments_in_windows(windows, payments)
    rows = pd.DataFrame(
        {"account_id": actions["account_id"].to_numpy(), "paid": (amount > 0).astype(int)}
    )
    X = features.drop(columns=[c for c in ("channel",) if c in features.columns])
    rows["expected"] = expected_outcomes(rows, X, outcome="paid", random_state=random_state)
    rows["channel"] = actions["channel"].to_numpy()
    rows["bucket"] = features["bucket"].to_numpy() if "bucket" in features else "all"
    rows["diff"] = rows["paid"] - rows["expected"]
    g = rows.groupby(["channel", "bucket"], observed=True)
    out = pd.DataFrame(
        {
            "actions": g.size(),
            "observed_rate": g["paid"].mean(),
            "expected_rate": g["expected"].mean(),
            "difference": g["diff"].mean(),
            "se": g["diff"].std(ddof=1) / np.sqrt(g.size()),
        }
    )
    z = stats.norm.ppf(0.5 + confidence / 2)
    out["difference_low"] = out["difference"] - z * out["se"]
    out["difference_high"] = out["difference"] + z * out["se"]
    out["o_e_ratio"] = out["observed_rate"] / out["expected_rate"]
    return out.drop(columns="se").reset_index()


# ------------------------------------------------------------------------- plots


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4.5))
    return ax


def plot_funnel(summary: pd.DataFrame, ax=None, confidence: float = 0.95):
    """Funnel plot: O/E against expected count, with control limits around 1.

    Agents outside the funnel differ from expectation by more than chance.

    Examples
    --------
    >>> s = pd.DataFrame({"agent_id": ["G1", "G2"], "expected": [40.0, 90.0],
    ...                   "o_e_ratio": [1.2, 0.9], "spells": [100, 200]})
    >>> plot_funnel(s).get_xlabel()
    'expected payers in window'
    """
    ax = _axes(ax)
    z = stats.norm.ppf(0.5 + confidence / 2)
    x = summary["expected"].to_numpy(dtype=float)
    grid = np.linspace(max(x.min() * 0.8, 1e-3), x.max() * 1.1, 200)
    for zz, style in ((z, "--"), (3.09, ":")):
        ax.plot(grid, 1 + zz / np.sqrt(grid), "k" + style, lw=0.8)
        ax.plot(grid, np.maximum(1 - zz / np.sqrt(grid), 0), "k" + style, lw=0.8)
    ax.axhline(1, color="grey", lw=0.8)
    ax.scatter(x, summary["o_e_ratio"], s=18, color="tab:blue", zorder=3)
    ax.set_xlabel("expected payers in window")
    ax.set_ylabel("observed / expected")
    ax.set_title(f"Agent funnel plot ({confidence:.0%} and 99.8% limits)")
    return ax


def plot_effects(summary: pd.DataFrame, ax=None):
    """Observed / expected per agent with its interval, best first.

    Examples
    --------
    >>> s = pd.DataFrame({"agent_id": ["G1", "G2"], "o_e_ratio": [1.2, 0.9],
    ...                   "o_e_low": [1.0, 0.8], "o_e_high": [1.4, 1.0]})
    >>> plot_effects(s).get_xlabel()
    'observed / expected'
    """
    ax = _axes(ax)
    s = summary.sort_values("o_e_ratio")
    y = np.arange(len(s))
    ax.errorbar(
        s["o_e_ratio"],
        y,
        xerr=[s["o_e_ratio"] - s["o_e_low"], s["o_e_high"] - s["o_e_ratio"]],
        fmt="o",
        ms=3,
        lw=0.8,
        color="tab:blue",
    )
    ax.axvline(1, color="grey", lw=0.8)
    ax.set_yticks(y)
    ax.set_yticklabels(s["agent_id"], fontsize=6)
    ax.set_xlabel("observed / expected")
    ax.set_title("Case-mix adjusted agent effect")
    return ax


def plot_rank_comparison(summary: pd.DataFrame, ax=None):
    """Naive rank vs case-mix adjusted rank per agent (slope chart).

    Examples
    --------
    >>> s = pd.DataFrame({"agent_id": ["G1", "G2"], "rank_naive": [1, 2],
    ...                   "rank_adjusted": [2, 1]})
    >>> len(plot_rank_comparison(s).lines)
    2
    """
    ax = _axes(ax)
    s = summary.dropna(subset=["rank_naive", "rank_adjusted"])
    for row in s.itertuples():
        moved = abs(int(row.rank_naive) - int(row.rank_adjusted))
        ax.plot(
            [0, 1],
            [row.rank_naive, row.rank_adjusted],
            color="tab:red" if moved > len(s) / 4 else "grey",
            lw=0.8,
        )
    ax.set_xticks([0, 1])
    ax.set_xticklabels(["naive (raw rate)", "case-mix adjusted"])
    ax.invert_yaxis()
    ax.set_ylabel("rank (1 = best)")
    ax.set_title("Naive vs adjusted ranking")
    return ax


def plot_compliance_heatmap(by_agent: pd.DataFrame, ax=None):
    """Violations per agent and rule (from :func:`recovery.operations.compliance.violations_by_agent`).

    Examples
    --------
    >>> t = pd.DataFrame({"agent_id": ["G1"], "outside_hours": [2], "attempts_per_day": [0],
    ...                   "violations": [2], "actions": [10], "violation_rate": [0.2]})
    >>> plot_compliance_heatmap(t).get_title()
    'Compliance flags by agent'
    """
    from recovery.operations.compliance import RULES

    ax = _axes(ax)
    rules = [r for r in RULES if r in by_agent.columns]
    show = (
        by_agent[by_agent["violations"] > 0]
        if (by_agent["violations"] > 0).any()
        else by_agent.head(10)
    )
    data = show[rules].to_numpy(dtype=float)
    im = ax.imshow(data, aspect="auto", cmap="Reds")
    ax.set_xticks(range(len(rules)))
    ax.set_xticklabels([r.replace("_", " ") for r in rules], rotation=35, ha="right", fontsize=7)
    ax.set_yticks(range(len(show)))
    ax.set_yticklabels(show["agent_id"], fontsize=7)
    for (i, j), v in np.ndenumerate(data):
        if v:
            ax.text(j, i, f"{int(v)}", ha="center", va="center", fontsize=7)
    ax.figure.colorbar(im, ax=ax, label="flagged actions")
    ax.set_title("Compliance flags by agent")
    return ax


def plot_reliability(curve: pd.DataFrame, ax=None, team: str | None = None):
    """Reliability of an agent ranking against spells per agent (:func:`reliability_curve`).

    Solid: median reliability τ² / (τ² + se²) per team; dashed: the Spearman correlation
    that reliability implies; dots: the measured Spearman with the truth when known.
    Tells a manager how many cases an agent needs before a ranking means something.

    Examples
    --------
    >>> c = pd.DataFrame({"fraction": [0.5, 1.0], "team": "early", "agents": 10,
    ...     "spells_per_agent": [150.0, 300.0], "reliability": [0.6, 0.75],
    ...     "expected_spearman": [0.76, 0.85]})
    >>> plot_reliability(c).get_xlabel()
    'spells per agent (median)'
    """
    ax = _axes(ax)
    teams = [team] if team is not None else [t for t in curve["team"].unique() if t != "all"]
    for i, name in enumerate(teams):
        c = curve[curve["team"] == name].sort_values("spells_per_agent")
        color = f"C{i}"
        x = c["spells_per_agent"]
        ax.plot(x, c["reliability"], "-", color=color, label=f"{name}: reliability")
        ax.plot(x, c["expected_spearman"], "--", color=color, lw=0.8, label=f"{name}: implied ρ")
        if "spearman_vs_truth" in c and c["spearman_vs_truth"].notna().any():
            ax.plot(x, c["spearman_vs_truth"], "o", color=color, ms=4, label=f"{name}: ρ vs truth")
    ax.axhline(0.9, color="grey", lw=0.6, ls=":")
    ax.set_ylim(0, 1)
    ax.set_xlabel("spells per agent (median)")
    ax.set_ylabel("reliability / Spearman ρ")
    ax.set_title("How many spells before an agent ranking means something")
    ax.legend(fontsize=7)
    return ax
