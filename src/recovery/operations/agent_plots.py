"""Figures of agent effectiveness and compliance for a collections manager.

Funnel plot and O/E intervals of a fit of
:class:`recovery.operations.agents.AgentEffectiveness`, naive against adjusted rank,
compliance flags by agent and rule, and the reliability of a ranking against spells
per agent (:func:`recovery.operations.agents.reliability_curve`). Each function draws
on ``ax`` (a new figure when ``None``) and returns the Axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from recovery.operations.compliance import RULES

__all__ = [
    "plot_funnel",
    "plot_effect_funnel",
    "plot_effects",
    "plot_rank_comparison",
    "plot_compliance_heatmap",
    "plot_reliability",
]


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


def plot_effect_funnel(
    summary: pd.DataFrame, ax=None, confidence: float = 0.95, reliable: pd.Series | None = None
):
    """Funnel plot: each agent's adjusted effect against spell-months, with control limits.

    The effect is O − E per spell-month relative to peers in the same team × bucket
    (``effect_vs_peers``, in percentage points); the limits ±z·σ/√n narrow as an agent
    works more spell-months (σ the typical spread of one spell-month's O − E). An agent
    outside the funnel differs from peers by more than chance; inside, no ranking is
    warranted. Agents named in ``reliable`` are filled, the others hollow.

    Examples
    --------
    >>> s = pd.DataFrame({"agent_id": ["G1", "G2"], "rows": [120, 400], "spells": [60, 200],
    ...     "effect_vs_peers": [0.08, -0.01], "se": [0.04, 0.02]})
    >>> ax = plot_effect_funnel(s)
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('spell-months worked', 'payments vs expected, relative to peers (pp)')
    """
    ax = _axes(ax)
    z = stats.norm.ppf(0.5 + confidence / 2)
    n = summary["rows"].to_numpy(dtype=float)
    effect = 100 * summary["effect_vs_peers"].to_numpy(dtype=float)
    sigma = 100 * float(np.sqrt(np.median(summary["se"].to_numpy(dtype=float) ** 2 * n)))
    grid = np.linspace(max(n.min() * 0.8, 1.0), n.max() * 1.15, 200)
    ax.fill_between(grid, -z * sigma / np.sqrt(grid), z * sigma / np.sqrt(grid),
                    color="0.9", label=f"{confidence:.0%} control limits")  # fmt: skip
    ax.plot(grid, 3.09 * sigma / np.sqrt(grid), "k:", lw=0.8, label="99.8% control limits")
    ax.plot(grid, -3.09 * sigma / np.sqrt(grid), "k:", lw=0.8)
    ax.axhline(0, color="grey", lw=0.8)
    filled = (
        summary["agent_id"].isin(reliable).to_numpy()
        if reliable is not None
        else np.ones(len(summary), dtype=bool)
    )
    ax.scatter(n[filled], effect[filled], s=24, color="tab:blue", zorder=3,
               label="agents with enough data")  # fmt: skip
    if (~filled).any():
        ax.scatter(n[~filled], effect[~filled], s=24, facecolors="none", edgecolors="tab:blue",
                   zorder=3, label="not enough data yet")  # fmt: skip
    outside = np.abs(effect) > z * sigma / np.sqrt(n)
    for name, x, y in zip(summary["agent_id"][outside], n[outside], effect[outside], strict=True):
        ax.annotate(str(name), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xlabel("spell-months worked")
    ax.set_ylabel("payments vs expected, relative to peers (pp)")
    ax.set_title("Agents against their peers: outside the funnel is more than chance")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
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
