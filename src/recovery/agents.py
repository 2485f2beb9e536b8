"""Agent and channel effectiveness, fairly measured (DESIGN.md §3 "Agent effectiveness").

A raw league table is unfair: senior agents get the hardest cases. For every
assignment spell the outcome in a fixed window (default 60 days from the spell start) is
compared with the outcome *expected for the same account* from a case-mix model that
does not know the agent (trained out of fold on the account's point-in-time features at
assignment). Per agent: observed / expected (O/E), observed − expected per spell with a
confidence interval, an empirical-Bayes shrunk effect for agents with few spells, and a
significance call corrected for multiple comparisons. The naive ranking sits beside it.

Channels are compared the same way (:func:`channel_effectiveness`); both analyses are
observational. Only randomised assignment (:mod:`recovery.experiments`) makes an effect
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
from recovery.portfolio import Portfolio

__all__ = [
    "spell_outcomes",
    "spell_case_mix",
    "expected_outcomes",
    "AgentEffectiveness",
    "activity_kpis",
    "channel_effectiveness",
    "plot_funnel",
    "plot_effects",
    "plot_rank_comparison",
    "plot_compliance_heatmap",
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
    from recovery.features import build_features

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
        row with ``spells`` (e.g. :func:`recovery.features.build_features` at the day
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

    Attributes
    ----------
    summary : pandas.DataFrame
        One row per agent (see :meth:`fit`).
    tau2_ : float
        Estimated between-agent variance of the true effect (per-spell units squared).
    spells_ : pandas.DataFrame
        The spells used, with ``o_minus_e`` and ``o_minus_e_vs_peers``.
    """

    def __init__(
        self,
        confidence: float = 0.95,
        min_spells: int = 30,
        alpha: float = 0.05,
        strata: tuple[str, ...] = ("team", "bucket"),
    ) -> None:
        self.confidence = confidence
        self.min_spells = min_spells
        self.alpha = alpha
        self.strata = strata

    def fit(self, spells: pd.DataFrame) -> AgentEffectiveness:
        """Estimate effects from spells with ``observed`` and ``expected`` outcomes.

        Parameters
        ----------
        spells : pandas.DataFrame
            ``agent_id``, ``observed`` (outcome in the window), ``expected`` (case-mix
            expectation, :func:`expected_outcomes`) and the ``strata`` columns.

        Returns
        -------
        AgentEffectiveness
            ``self``, with ``summary`` per agent: ``agent_id, team, spells, observed,
            expected, o_e_ratio`` (+ interval), ``effect`` (mean O − E per spell, +
            interval), ``effect_vs_peers`` (O − E relative to the team × bucket cell),
            ``shrunk_effect`` (``effect_vs_peers`` shrunk by empirical Bayes: the ranked
            quantity), ``p_value``, ``q_value``, ``verdict``
            (better / worse / not different), ``naive_rate``, ``rank_naive``,
            ``rank_adjusted``.
        """
        df = spells.copy()
        df["o_minus_e"] = df["observed"] - df["expected"]
        strata = [c for c in self.strata if c in df.columns]
        if strata:
            cell = df.groupby(strata, dropna=False, observed=True)["o_minus_e"].transform("mean")
            df["o_minus_e_vs_peers"] = df["o_minus_e"] - cell
        else:
            df["o_minus_e_vs_peers"] = df["o_minus_e"]
        g = df.groupby("agent_id")
        out = pd.DataFrame(
            {
                "spells": g.size(),
                "observed": g["observed"].sum(),
                "expected": g["expected"].sum(),
                "effect": g["o_minus_e"].mean(),
                "sd": g["o_minus_e"].std(ddof=1),
                "effect_vs_peers": g["o_minus_e_vs_peers"].mean(),
                "naive_rate": g["observed"].mean(),
            }
        )
        if "team" in df:
            out.insert(
                0, "team", g["team"].agg(lambda s: s.mode().iat[0] if len(s.mode()) else None)
            )
        # a floor on the spread keeps tiny agents with identical outcomes from looking certain
        pooled_sd = df["o_minus_e"].std(ddof=1)
        sd = out["sd"].fillna(pooled_sd).clip(lower=0.25 * pooled_sd)
        out["se"] = sd / np.sqrt(out["spells"])
        z = stats.norm.ppf(0.5 + self.confidence / 2)
        out["effect_low"] = out["effect"] - z * out["se"]
        out["effect_high"] = out["effect"] + z * out["se"]
        mean_expected = out["expected"] / out["spells"]
        out["o_e_ratio"] = out["observed"] / out["expected"]
        out["o_e_low"] = 1 + out["effect_low"] / mean_expected
        out["o_e_high"] = 1 + out["effect_high"] / mean_expected
        # empirical Bayes: effect_a ~ N(0, tau2); estimate tau2 by the method of moments
        ranked = out["spells"] >= self.min_spells
        base = out[ranked] if ranked.sum() >= 3 else out
        # the ranked quantity is the effect relative to peers in the same team x bucket
        tau2 = max(0.0, float(base["effect_vs_peers"].var(ddof=1) - (base["se"] ** 2).mean()))
        self.tau2_ = tau2
        weight = tau2 / (tau2 + out["se"] ** 2) if tau2 > 0 else 0.0 * out["se"]
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
            out.drop(columns=["sd"])
            .reset_index()
            .sort_values(["rank_adjusted", "agent_id"])
            .reset_index(drop=True)
        )
        return self

    @property
    def summary(self) -> pd.DataFrame:
        """Per-agent table (see :meth:`fit`)."""
        return self.summary_

    def plot_funnel(self, ax=None):
        """Funnel plot of this fit (see :func:`plot_funnel`)."""
        return plot_funnel(self.summary, ax=ax, confidence=self.confidence)

    def plot_effects(self, ax=None):
        """O/E with intervals (see :func:`plot_effects`)."""
        return plot_effects(self.summary, ax=ax)


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
    randomised test (:mod:`recovery.experiments`) to measure a channel's causal uplift.

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
    """Violations per agent and rule (from :func:`recovery.compliance.violations_by_agent`).

    Examples
    --------
    >>> t = pd.DataFrame({"agent_id": ["G1"], "outside_hours": [2], "attempts_per_day": [0],
    ...                   "violations": [2], "actions": [10], "violation_rate": [0.2]})
    >>> plot_compliance_heatmap(t).get_title()
    'Compliance flags by agent'
    """
    from recovery.compliance import RULES

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
