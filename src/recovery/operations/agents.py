"""Agent and channel effectiveness, fairly measured (DESIGN.md §3 "Agent effectiveness").

A raw league table is unfair: senior agents get the hardest cases. For every
assignment spell the outcome in a fixed window (default 60 days from the spell start) is
compared with the outcome *expected for the same account* from a case-mix model that
does not know the agent (trained out of fold on the account's point-in-time features at
assignment). Per agent: observed / expected (O/E), observed − expected per spell with a
confidence interval, an empirical-Bayes shrunk effect for agents with few spells, and a
significance call corrected for multiple comparisons. The naive ranking sits beside it.

The finest unit is the spell-month
(:func:`~recovery.operations.spells.spell_month_outcomes`): whether the account
paid in each month the agent held it, and whether the agent talked with the borrower
that month; counting O − E only in months with a conversation (``through="talked"``)
removes the noise of months the agent could not move. How far a ranking can be trusted
is its **reliability** τ² / (τ² + se²) — reported per agent, as a function of spells per
agent by :func:`reliability_curve`, and turned into the spells needed for a target by
:meth:`AgentEffectiveness.spells_needed`.

The spells and their outcomes come from :mod:`recovery.operations.spells`; channels are
compared the same way in :mod:`recovery.operations.channels`, collectors' activity in
:mod:`recovery.operations.activity`, and the figures are in
:mod:`recovery.operations.agent_plots`. Both comparisons are observational: only
randomised assignment (:mod:`recovery.operations.experiments`) makes an effect causal.

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

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.operations.agent_plots import plot_effects, plot_funnel
from recovery.operations.learners import small_lightgbm

__all__ = [
    "spell_case_mix",
    "expected_outcomes",
    "AgentEffectiveness",
    "rank_intervals",
    "reliability_curve",
]


def spell_case_mix(
    portfolio: Portfolio, spells: pd.DataFrame, config: Config | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Point-in-time case mix of each spell: the account's features the day before it.

    Parameters
    ----------
    portfolio : Portfolio
    spells : pandas.DataFrame
        From :func:`~recovery.operations.spells.spell_outcomes` (``account_id``, ``start_date``).
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
        From :func:`~recovery.operations.spells.spell_outcomes` (its ``outcome`` column is the target).
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
        estimator = small_lightgbm(
            "classifier" if outcome == "paid" else "regressor",
            random_state,
            n_estimators=200,
            min_child_samples=40,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
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


@dataclass(eq=False, repr=False)
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
        A boolean column (e.g. ``talked`` from :func:`~recovery.operations.spells.spell_month_outcomes`): rows
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

    confidence: float = 0.95
    min_spells: int = 30
    alpha: float = 0.05
    strata: tuple[str, ...] = ("team", "bucket")
    through: str | None = None
    cluster: str = "spell_id"

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
            observed, expected, o_e_ratio`` (+ interval, on the log scale: never below
            zero), ``effect`` (mean O − E per
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
        out["o_e_ratio"] = out["observed"] / out["expected"]
        # on the log scale (delta method, the expectation taken as known): a ratio's
        # interval never goes below zero; none when nothing was observed
        se_log = (out["se"] * out["rows"] / out["observed"]).where(out["observed"] > 0)
        out["o_e_low"] = out["o_e_ratio"] * np.exp(-z * se_log)
        out["o_e_high"] = out["o_e_ratio"] * np.exp(z * se_log)
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
        """Funnel plot of this fit (see :func:`recovery.operations.agent_plots.plot_funnel`)."""
        return plot_funnel(self.summary, ax=ax, confidence=self.confidence)

    def plot_effects(self, ax=None):
        """O/E with intervals (see :func:`recovery.operations.agent_plots.plot_effects`)."""
        return plot_effects(self.summary, ax=ax)


def rank_intervals(
    summary: pd.DataFrame,
    by: str | None = "team",
    confidence: float = 0.95,
    draws: int = 2000,
    random_state: int = 0,
) -> pd.DataFrame:
    """Ranks of agents with their intervals, from the empirical-Bayes posterior.

    Each agent's true effect relative to peers is drawn from its posterior,
    normal with mean ``shrunk_effect`` and variance ``reliability · se²`` (the
    normal-normal posterior τ²·se² / (τ² + se²)); the agents are ranked in each draw
    (1 = best, within ``by``) and the interval is the central ``confidence`` range of
    an agent's ranks. A rank whose interval spans most of the list is no ranking.

    Parameters
    ----------
    summary : pandas.DataFrame
        Rows of :attr:`AgentEffectiveness.summary` to rank (e.g. the reliable ones).
    by : str, optional
        Rank within groups of this column (default ``team``); None ranks all together.
    confidence : float
    draws : int
    random_state : int

    Returns
    -------
    pandas.DataFrame
        ``agent_id, rank, rank_low, rank_high`` (``rank`` by ``shrunk_effect``).

    Examples
    --------
    >>> s = pd.DataFrame({"agent_id": ["G1", "G2", "G3"], "team": "early",
    ...     "shrunk_effect": [0.05, 0.0, -0.05], "se": [0.01, 0.01, 0.04],
    ...     "reliability": [0.9, 0.9, 0.4]})
    >>> rank_intervals(s)[["agent_id", "rank", "rank_low", "rank_high"]].values.tolist()
    [['G1', 1, 1, 1], ['G2', 2, 2, 3], ['G3', 3, 2, 3]]
    """
    rng = np.random.default_rng(random_state)
    s = summary.reset_index(drop=True)
    sd = np.sqrt(s["reliability"].to_numpy(dtype=float)) * s["se"].to_numpy(dtype=float)
    mean = s["shrunk_effect"].to_numpy(dtype=float)
    sample = mean + sd * rng.standard_normal((draws, len(s)))
    groups = s[by] if by is not None and by in s else pd.Series("all", index=s.index)
    ranks = np.zeros_like(sample)
    point = np.zeros(len(s))
    for _, members in s.groupby(groups, sort=False).groups.items():
        cols = np.asarray(members)
        # rank 1 = the largest effect; ties by order
        order = np.argsort(-sample[:, cols], axis=1, kind="stable")
        ranks[:, cols] = np.argsort(order, axis=1, kind="stable") + 1
        point[cols] = pd.Series(-mean[cols]).rank(method="min").to_numpy()
    tail = (1 - confidence) / 2
    return pd.DataFrame(
        {
            "agent_id": s["agent_id"].to_numpy(),
            "rank": point.astype(int),
            "rank_low": np.floor(np.quantile(ranks, tail, axis=0)).astype(int),
            "rank_high": np.ceil(np.quantile(ranks, 1 - tail, axis=0)).astype(int),
        }
    )


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
