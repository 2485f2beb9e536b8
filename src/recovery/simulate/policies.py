"""Policy evaluation on the simulator: who is worked, at equal capacity (issue 8).

The simulated lender's default escalation policy works every delinquent account of a
bucket with the same package of contact attempts. A *ranked* policy spends the same
number of contact attempts differently: from a switch month on, within each team
(early, late, legal) and month, it gives each account one of three intensities — no
contact attempts, the standard package of its bucket (the champion arm), or the
intensive package (the challenger arm, ``challenger_scale`` times the attempts) — by a
priority computed from what a lender knows at the start of the month:

- ``propensity``: expected collection ``p̂ × amount`` (easy cases first), with ``p̂``
  from a model fitted on the pre-switch history;
- ``uplift``: the gain of each step of intensity, ``uplift × amount − cost``, with the
  uplift per segment (policy group × propensity band) measured on the randomised
  hold-out / champion / challenger share of the pre-switch history.

Letters, legal notices, lawsuits, placements and the experiment's hold-out arm stay
as the default plans them; agent capacity, the contact rules and suppressions still
apply afterwards (:meth:`recovery.simulate.operation.CollectionOperation.plan`).
Months before the switch are untouched, so runs with the same seed share their
history exactly (common random numbers after it).

- :class:`PolicyOperation` — the operation with a switch month, a policy and the
  default run's capacity (contact attempts per chunk, month and team);
- :class:`~recovery.simulate.priority.PriorityModel` — fitted on the logged
  pre-switch history: propensity, amount given payment and segment uplift
  (:mod:`recovery.simulate.priority`);
- :func:`evaluate_policies` — run default, propensity and uplift policies over seeds and
  compare collections, cost and compliance flags in the window after the switch.

Examples
--------
>>> from recovery.simulate import simulate_portfolio
>>> op = PolicyOperation("default", switch="2021-01-01")
>>> portfolio, _ = simulate_portfolio(n_accounts=200, months=24, seed=1, operation=op)
>>> sorted(op.history_.columns[:3])
['account_id', 'account_index', 'month_index']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.errors import ConfigError
from recovery.simulate import contacts as ct
from recovery.simulate.operation import CollectionOperation, OperationParams, PlanContext
from recovery.simulate.operation.effects import saturate
from recovery.simulate.priority import PriorityModel, observable_features

__all__ = [
    "POLICIES",
    "PolicyOperation",
    "allocate_intensity",
    "match_capacity",
    "policy_outcomes",
    "evaluate_policies",
    "compare_policies",
]

#: Policies :class:`PolicyOperation` can run after the switch month. ``oracle`` ranks
#: by an approximation of the simulator's *true* contact response (latent traits): not
#: something a lender can do; a reference, not an upper bound (it ignores promises,
#: settlements and agent skill, and uses the estimated amount).
POLICIES = ("default", "propensity", "uplift", "oracle")
#: Teams whose contact attempts are reallocated (agency placements keep their plan).
_RANKED_TEAMS = (0, 1, 2)
_GROUP_NAMES = np.array(ct.GROUPS, dtype=object)


class PolicyOperation(CollectionOperation):
    """The collection operation with another policy from a switch month on.

    Parameters
    ----------
    policy : {"default", "propensity", "uplift", "oracle"}
        What decides the contact intensity of each account after the switch
        (``oracle`` uses the simulator's latent contact response: a reference, not a
        lender's policy).
    switch : date or int, optional
        First month of the new policy (a date in it, or a month index); default: 12
        months before the data end.
    capacity : dict, optional
        Contact attempts per ``(chunk, month_index, team)`` (from a default run's
        :attr:`planned_`); needed for the ranked policies. The ranked plan spends the
        same expected number of attempts.
    model : PriorityModel, optional
        Fitted priorities (needed for the ranked policies).
    record : bool
        Log the observable state of worked accounts before the switch
        (:attr:`history_`, to fit a :class:`PriorityModel`).
    params : OperationParams, optional
    **overrides
        Operation parameters to change.

    Attributes
    ----------
    switch_month_ : int
        Month index of the switch.
    planned_ : dict
        Expected contact attempts planned per ``(chunk, month_index, team)`` on the
        accounts a ranked policy may reallocate (every month, every policy).
    history_ : pandas.DataFrame
        Logged pre-switch account-months (``record=True``): ids, month, arm,
        randomised flag, idle flag and :func:`observable_features`.

    Examples
    --------
    >>> PolicyOperation("default", switch="2024-01-01").policy
    'default'
    """

    def __init__(
        self,
        policy: str = "default",
        switch: Any = None,
        capacity: dict | None = None,
        model: PriorityModel | None = None,
        record: bool = True,
        params: OperationParams | None = None,
        **overrides: Any,
    ) -> None:
        if policy not in POLICIES:
            raise ConfigError(f"policy {policy!r} unknown; choose one of {POLICIES}")
        if policy != "default" and (capacity is None or model is None):
            raise ConfigError(
                f"policy {policy!r} needs capacity= (a default run's planned_) and a fitted "
                "model= (PriorityModel)"
            )
        super().__init__(params, **overrides)
        self.policy = policy
        self.switch = switch
        self.capacity = capacity
        self.model = model
        self.record = record

    # ------------------------------------------------------------------ hook protocol
    def start(self, book) -> None:  # noqa: D102 - see CollectionOperation.start
        super().start(book)
        starts = pd.DatetimeIndex(book.month_starts)
        if self.switch is None:
            switch = (pd.Timestamp(book.data_end) - pd.DateOffset(months=12)) + pd.Timedelta(days=1)
            self.switch_month_ = int(starts.searchsorted(switch.normalize(), side="right") - 1)
        elif isinstance(self.switch, (int, np.integer)):
            self.switch_month_ = int(self.switch)
        else:
            day = pd.Timestamp(self.switch).normalize()
            self.switch_month_ = int(starts.searchsorted(day, side="right") - 1)
        self.switch_month_ = max(self.switch_month_, 0)
        self.planned_: dict[tuple[int, int, int], float] = {}
        self._log: list[pd.DataFrame] = []
        self._ids: dict[int, np.ndarray] = {}
        self._bureau: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        table = np.zeros((len(ct.GROUPS), len(ct.CHANNELS)))
        for g, name in enumerate(ct.GROUPS):
            for channel, mean in self.params.policy.get(name, {}).items():
                table[g, ct.CHANNELS.index(channel)] = mean
        self._package = table * self.params.intensity
        costs = self.config.costs.per_action
        self._cost = np.array([float(costs.get(c, 0.0)) for c in ct.CHANNELS])

    def start_chunk(self, chunk_index: int, accounts: pd.DataFrame) -> None:  # noqa: D102
        super().start_chunk(chunk_index, accounts)
        index = accounts["account_index"].to_numpy(np.int64)
        order = np.argsort(index)
        bureau = (
            accounts["bureau_score"].to_numpy(float)
            if "bureau_score" in accounts
            else np.full(len(index), np.nan)
        )
        self._bureau[chunk_index] = (index[order], bureau[order])
        if "account_id" in accounts:
            self._ids[chunk_index] = accounts["account_id"].astype(str).to_numpy(object)[order]

    # ------------------------------------------------------------------ the seam
    def plan(self, context: PlanContext, counts: np.ndarray) -> np.ndarray:
        """Default plan before the switch; the ranked intensities after it."""
        state = context.state
        m = int(state.month_index)
        chunk = int(state.chunk_index)
        eligible = self._eligible(context)
        contact = counts[:, ct.CONTACT].sum(1)
        team = np.asarray(context.team)
        ranked = self.policy != "default" and m >= self.switch_month_
        if not ranked:
            for t in _RANKED_TEAMS:
                self.planned_[(chunk, m, t)] = float(contact[eligible & (team == t)].sum())
            if self.record and m < self.switch_month_ and state.observed and len(context.rows):
                self._log.append(self._log_rows(context, chunk, m))
            return counts
        features = observable_features(context, self._bureau_of(context))
        scores = self.model.score(features)
        mean = self._package[np.asarray(context.group)].copy()
        no_guarantor = ~np.asarray(state.has_guarantor)[np.asarray(context.rows)].astype(bool)
        mean[no_guarantor, ct.GUARANTOR] = 0.0
        mean[:, ~ct.CONTACT] = 0.0
        attempts = mean.sum(1)
        cost1 = mean @ self._cost
        scale = float(self.params.challenger_scale)
        if self.policy == "propensity":
            v1 = scores["expected_collection"].to_numpy()
            v2 = v1 * (scale - 1.0)
        elif self.policy == "uplift":
            amount = scores["amount"].to_numpy()
            v1 = scores["uplift_standard"].to_numpy() * amount - cost1
            v2 = scores["uplift_intensive"].to_numpy() * amount - cost1 * (scale - 1.0)
        else:
            amount = scores["amount"].to_numpy()
            u1, u2 = self._true_uplift(context, mean, scale)
            v1 = u1 * amount - cost1
            v2 = u2 * amount - cost1 * (scale - 1.0)
        level = np.zeros(len(counts), np.int8)
        budgets = {}
        for t in _RANKED_TEAMS:
            rows = np.flatnonzero(eligible & (team == t))
            budgets[t] = float(self.capacity.get((chunk, m, t), 0.0))
            level[rows] = allocate_intensity(
                v1[rows], v2[rows], attempts[rows], attempts[rows] * (scale - 1.0), budgets[t]
            )
        worked = eligible & (level > 0)
        factor = np.where(level == 2, scale, 1.0)[worked]
        new = counts.copy()
        new[eligible] = np.where(ct.CONTACT, 0, counts[eligible])
        drawn = state.rng.poisson(mean[worked] * factor[:, None])
        new[worked] = np.where(ct.CONTACT, drawn, counts[worked])
        # exactly the capacity: top up or trim the Poisson draws, by priority
        priority = v1 / np.maximum(attempts, 1e-9)
        for t in _RANKED_TEAMS:
            rows = np.flatnonzero(worked & (team == t))
            new[rows] = match_capacity(new[rows], priority[rows], int(round(budgets[t])))
            self.planned_[(chunk, m, t)] = float(new[rows][:, ct.CONTACT].sum())
        return new

    # ------------------------------------------------------------------ pieces
    def _true_uplift(self, context: PlanContext, mean: np.ndarray, scale: float):
        """Approximate true gain in P(pay) of the standard package over none and of the
        intensive over the standard (oracle: uses the borrower's latent response).

        Expected log-odds effect of the package: the archetype's contact response ×
        the bucket's effect × Σ channel attempts × the channel's mean effect weight
        (calls and visits weighted by the chance of reaching the borrower), saturated
        as the operation does (``effect_cap``); promises and agent skill are ignored.
        """
        s = context.state
        r = np.asarray(context.rows, np.int64)
        group = np.asarray(context.group)
        reach = np.clip(np.asarray(s.reachability)[r], 0.0, 0.95)
        weight = np.zeros_like(mean)
        weight[:, ct.SMS] = 0.08
        weight[:, ct.CALL] = reach * 0.8 + (1 - reach) * 0.05
        weight[:, ct.VISIT] = np.minimum(reach * 1.3, 0.95) * 1.2 + 0.1
        weight[:, ct.GUARANTOR] = 0.3
        unit = np.log(np.maximum(np.asarray(s.contact_response)[r], 1e-6))
        unit = unit * np.asarray(self.params.bucket_effect)[group]
        raw1 = unit * (mean * weight).sum(1)
        cap = self.params.effect_cap
        h = np.clip(np.asarray(s.p_pay_base)[r], 1e-6, 1 - 1e-6)
        logit_h = np.log(h / (1 - h))
        p1 = 1 / (1 + np.exp(-(logit_h + saturate(raw1, cap))))
        p2 = 1 / (1 + np.exp(-(logit_h + saturate(raw1 * scale, cap))))
        return p1 - h, p2 - p1

    def _eligible(self, context: PlanContext) -> np.ndarray:
        """Accounts whose contact attempts a ranked policy may move (not hold-out,
        not with an agency, death not known, teams early/late/legal)."""
        s = context.state
        r = np.asarray(context.rows, np.int64)
        start = int((pd.Timestamp(s.month_start) - pd.Timestamp("1970-01-01")).days)
        notice = getattr(s, "death_notice_day", None)
        if notice is not None and len(notice) == len(s):
            n = np.asarray(notice, np.int64)[r]
            dead = (n >= 0) & (n < start)
        else:
            dead = np.asarray(s.deceased)[r].astype(bool)
        team = np.asarray(context.team)
        return (np.asarray(context.arm) != 0) & ~dead & np.isin(team, _RANKED_TEAMS)

    def _bureau_of(self, context: PlanContext) -> np.ndarray:
        index, bureau = self._bureau[int(context.state.chunk_index)]
        ai = np.asarray(context.state.account_index)[np.asarray(context.rows, np.int64)]
        at = np.clip(np.searchsorted(index, ai), 0, max(len(index) - 1, 0))
        return bureau[at] if len(index) else np.full(len(ai), np.nan)

    def _log_rows(self, context: PlanContext, chunk: int, m: int) -> pd.DataFrame:
        f = observable_features(context, self._bureau_of(context))
        ids = self._ids.get(chunk)
        if ids is not None:
            index, _ = self._bureau[chunk]
            f.insert(0, "account_id", ids[np.searchsorted(index, f["account_index"])])
        else:
            f.insert(0, "account_id", pd.NA)
        f.insert(2, "month_index", np.int32(m))
        start = np.datetime64(pd.Timestamp(context.state.month_start), "ns")
        f.insert(3, "month_start", np.full(len(f), start, dtype="datetime64[ns]"))
        f["team"] = np.asarray(context.team, np.int8)
        f["arm"] = np.asarray(context.arm, np.int8)
        f["randomized"] = np.asarray(context.randomized, bool)
        f["idle"] = np.asarray(context.idle, bool)
        return f

    @property
    def history_(self) -> pd.DataFrame:
        """The logged pre-switch account-months (empty when nothing was recorded)."""
        if not getattr(self, "_log", None):
            return pd.DataFrame(columns=["account_id", "account_index", "month_index"])
        return pd.concat(self._log, ignore_index=True)


def allocate_intensity(
    value_standard: np.ndarray,
    value_intensive: np.ndarray,
    attempts_standard: np.ndarray,
    attempts_extra: np.ndarray,
    budget: float,
) -> np.ndarray:
    """Greedy choice of intensity (0 none, 1 standard, 2 intensive) within a budget.

    Steps are taken in decreasing value per contact attempt; the intensive step of an
    account never before its standard step (its ratio is capped at the standard
    one's), until the expected attempts reach ``budget``.

    Parameters
    ----------
    value_standard, value_intensive : ndarray
        Value (currency) of the standard package over none, and of the intensive
        package over the standard one.
    attempts_standard, attempts_extra : ndarray
        Expected contact attempts of the standard package, and the extra attempts of
        the intensive one.
    budget : float
        Contact attempts available.

    Returns
    -------
    ndarray of int8

    Examples
    --------
    >>> allocate_intensity(np.array([5.0, 1.0, 3.0]), np.array([4.0, 0.1, 0.2]),
    ...                    np.ones(3), np.ones(3), budget=3).tolist()
    [2, 0, 1]
    """
    n = len(value_standard)
    if n == 0 or budget <= 0:
        return np.zeros(n, np.int8)
    a1 = np.maximum(attempts_standard, 1e-9)
    a2 = np.maximum(attempts_extra, 1e-9)
    r1 = value_standard / a1
    r2 = np.minimum(value_intensive / a2, r1)
    ratio = np.concatenate([r1, r2])
    step = np.concatenate([np.ones(n, np.int8), np.full(n, 2, np.int8)])
    who = np.concatenate([np.arange(n), np.arange(n)])
    cost = np.concatenate([attempts_standard, attempts_extra])
    order = np.lexsort((who, step, -ratio))
    taken = np.cumsum(cost[order]) <= budget + 1e-9
    level = np.zeros(n, np.int8)
    chosen = order[taken]
    np.maximum.at(level, who[chosen], step[chosen])
    # an intensive step whose standard step did not fit is dropped
    standard = np.zeros(n, bool)
    standard[who[chosen][step[chosen] == 1]] = True
    return np.where(standard, level, 0).astype(np.int8)


def match_capacity(counts: np.ndarray, priority: np.ndarray, total: int) -> np.ndarray:
    """Add or remove contact attempts so that they sum to ``total``.

    Missing attempts are added as calls to the accounts of highest priority (one
    each, in turn); surplus attempts are removed from the accounts of lowest
    priority (calls first, then SMS, visits, guarantor contacts).

    Examples
    --------
    >>> c = np.zeros((3, len(ct.CHANNELS)), np.int64)
    >>> c[:, ct.CALL] = [2, 2, 2]
    >>> match_capacity(c, np.array([3.0, 1.0, 2.0]), 8)[:, ct.CALL].tolist()
    [3, 2, 3]
    >>> match_capacity(c, np.array([3.0, 1.0, 2.0]), 3)[:, ct.CALL].tolist()
    [2, 0, 1]
    """
    counts = counts.copy()
    n = len(counts)
    diff = int(total - counts[:, ct.CONTACT].sum())
    if n == 0 or diff == 0:
        return counts
    order = np.argsort(-priority, kind="stable")
    if diff > 0:
        extra = np.bincount(order[np.arange(diff) % n], minlength=n)
        counts[:, ct.CALL] += extra
        return counts
    have = counts[:, ct.CONTACT].sum(1)
    low_first = order[::-1]
    before = np.cumsum(have[low_first]) - have[low_first]
    remove = np.zeros(n, np.int64)
    remove[low_first] = np.clip(-diff - before, 0, have[low_first])
    for channel in (ct.CALL, ct.SMS, ct.VISIT, ct.GUARANTOR):
        take = np.minimum(counts[:, channel], remove)
        counts[:, channel] -= take
        remove -= take
    return counts


def policy_outcomes(
    portfolio: Any, start: Any, config: Config | None = None, end: Any = None
) -> dict[str, float]:
    """Collections, cost, contact attempts and compliance flags from ``start`` on.

    Parameters
    ----------
    portfolio : Portfolio
        A simulated book (with the operation's actions).
    start : date
        First day of the evaluation window (the switch month).
    end : date, optional
        Last day (default: the data end).

    Returns
    -------
    dict
        ``collected`` (net of reversals, currency), ``cost`` (actions' channel costs),
        ``contact_attempts`` (sms, call, visit, guarantor_contact), ``actions``,
        ``compliance_flags`` ((action, rule) pairs of
        :func:`recovery.operations.compliance.flag_actions`) and ``flags_<rule>`` per rule.

    Examples
    --------
    >>> from recovery.simulate import simulate_portfolio
    >>> p, _ = simulate_portfolio(n_accounts=100, months=12, seed=0)
    >>> sorted(policy_outcomes(p, "2019-07-01"))[:3]
    ['actions', 'collected', 'compliance_flags']
    """
    from recovery.operations.compliance import CONTACT_CHANNELS, flag_actions

    config = config or Config()
    start = pd.Timestamp(start).normalize()
    end = pd.Timestamp(end) if end is not None else pd.Timestamp(portfolio.data_end)
    end_s = end.normalize() + pd.Timedelta(days=1)
    pay = portfolio.payments
    in_window = (pay["payment_date"] >= start) & (pay["payment_date"] <= end)
    not_reversed = pay["reversed_date"].isna() | (pay["reversed_date"] > end)
    acts = portfolio.actions
    a_window = (acts["ts"] >= start) & (acts["ts"] < end_s)
    window = acts[a_window]
    cost = (
        window["cost"]
        if "cost" in window
        else window["channel"].map(config.costs.per_action).fillna(0.0)
    )
    flags = flag_actions(
        acts,
        config,
        events=portfolio.events,
        schedule=portfolio.schedule,
        payments=portfolio.payments,
        accounts=portfolio.accounts,
    )
    flags = flags[(flags["ts"] >= start) & (flags["ts"] < end_s)]
    out = {
        "collected": float(pay.loc[in_window & not_reversed, "amount"].sum()),
        "cost": float(cost.sum()),
        "contact_attempts": int(window["channel"].isin(CONTACT_CHANNELS).sum()),
        "actions": int(len(window)),
        "compliance_flags": int(len(flags)),
    }
    for rule, n in flags["rule"].value_counts().sort_index().items():
        out[f"flags_{rule}"] = int(n)
    return out


def evaluate_policies(
    n_accounts: int = 3000,
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4),
    months: int = 84,
    start: str = "2019-01-01",
    scenario: str = "benchmark",
    config: Config | None = None,
    policies: tuple[str, ...] = ("default", "propensity", "uplift"),
    switch: Any = None,
    model: PriorityModel | None = None,
    progress: Any = None,
    keep: dict | None = None,
    **operation: Any,
) -> pd.DataFrame:
    """Re-simulate the last 12 months under each policy, paired by seed.

    For each seed: the default policy runs first (logging the pre-switch history and
    the contact attempts it plans per chunk, month and team); a :class:`PriorityModel`
    is fitted on that history; then each ranked policy runs with the same seed (so an
    identical history before the switch) and the default's capacity.

    Parameters
    ----------
    n_accounts, months, start, scenario, config
        Passed to :func:`recovery.simulate.simulate_portfolio`.
    seeds : tuple of int
        One paired comparison per seed.
    policies : tuple of str
        Subset of :data:`POLICIES` (``default`` always runs; add ``oracle`` for the
        truth-based reference).
    switch : date or int, optional
        First month of the new policies (default: 12 months before the data end).
    model : PriorityModel, optional
        Unfitted template (default ``PriorityModel()``).
    progress : callable, optional
        Called with a message after each run.
    keep : dict, optional
        If given, filled with ``(seed, policy) -> (operation, portfolio)`` of every run.
    **operation
        :class:`OperationParams` overrides.

    Returns
    -------
    pandas.DataFrame
        One row per seed × policy: :func:`policy_outcomes`, plus ``seed``, ``policy``,
        ``switch_date``, ``expected_extra_payers`` (truth: Σ over the window's worked
        account-months of P(pay | the operation) − P(pay | no operation), free of the
        payment draw's noise) and ``pre_switch_actions`` / ``pre_switch_collected`` /
        ``pre_switch_fingerprint`` (to check that histories are identical).

    Examples
    --------
    >>> r = evaluate_policies(n_accounts=100, seeds=(0,), months=18, policies=("default",))
    >>> r[["seed", "policy"]].values.tolist()
    [[0, 'default']]
    """
    from recovery.simulate import simulate_portfolio

    rows = []
    for seed in seeds:
        default = PolicyOperation("default", switch=switch, record=True, **operation)
        kwargs = dict(
            config=config, n_accounts=n_accounts, start=start, months=months, scenario=scenario
        )
        portfolio, truth = simulate_portfolio(seed=seed, operation=default, **kwargs)
        switch_date = pd.Timestamp(default.month_start_days[default.switch_month_], unit="D")
        rows.append(_row(portfolio, truth, switch_date, config, seed, "default"))
        if keep is not None:
            keep[(seed, "default")] = (default, portfolio)
        if progress:
            progress(f"seed {seed}: default")
        ranked = [p for p in policies if p != "default"]
        if not ranked:
            continue
        template = model or PriorityModel(random_state=seed)
        fitted = PriorityModel(template.estimator, template.bands, template.random_state).fit(
            default.history_, portfolio.payments, portfolio.data_end
        )
        for policy in ranked:
            op = PolicyOperation(
                policy,
                switch=default.switch_month_,
                capacity=default.planned_,
                model=fitted,
                record=False,
                **operation,
            )
            other, truth = simulate_portfolio(seed=seed, operation=op, **kwargs)
            rows.append(_row(other, truth, switch_date, config, seed, policy))
            if keep is not None:
                keep[(seed, policy)] = (op, other)
            if progress:
                progress(f"seed {seed}: {policy}")
    return pd.DataFrame(rows).fillna(0)


def _row(portfolio, truth, switch_date, config, seed, policy) -> dict:
    out = policy_outcomes(portfolio, switch_date, config)
    months = truth.extra.get("operation_months") if truth is not None else None
    if months is not None and len(months):
        inside = (months["month_end"] >= switch_date) & (
            months["month_end"] <= pd.Timestamp(portfolio.data_end)
        )
        part = months[inside]
        gain = part["p_pay_operation"].astype(float) - part["p_pay_base"].astype(float)
        out["expected_extra_payers"] = float(gain.sum())
    before = portfolio.actions[portfolio.actions["ts"] < switch_date]
    pay = portfolio.payments[portfolio.payments["payment_date"] < switch_date]
    return {
        "seed": seed,
        "policy": policy,
        "switch_date": switch_date,
        **out,
        "pre_switch_actions": int(len(before)),
        "pre_switch_collected": float(pay["amount"].sum()),
        "pre_switch_fingerprint": int(
            pd.util.hash_pandas_object(
                before[["account_id", "ts", "channel", "outcome"]], index=False
            ).sum()
            % (1 << 61)
        ),
    }


def compare_policies(
    results: pd.DataFrame,
    measures: tuple[str, ...] = ("collected", "cost", "contact_attempts", "compliance_flags"),
    baseline: str = "default",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Mean per policy and the paired difference to the baseline with a t interval.

    Parameters
    ----------
    results : pandas.DataFrame
        From :func:`evaluate_policies`.

    Returns
    -------
    pandas.DataFrame
        Per policy and measure: ``mean``, ``difference`` (policy − baseline, mean over
        seeds), ``ci_low``, ``ci_high``, ``n_seeds``, ``relative`` (difference / baseline
        mean).

    Examples
    --------
    >>> r = pd.DataFrame({"seed": [0, 0, 1, 1], "policy": ["default", "x"] * 2,
    ...                   "collected": [10.0, 12.0, 20.0, 21.0]})
    >>> compare_policies(r, ("collected",)).set_index("policy").loc["x", "difference"]
    np.float64(1.5)
    """
    from scipy import stats

    wide = results.pivot(index="seed", columns="policy")
    out = []
    for policy in results["policy"].unique():
        for measure in measures:
            values = wide[(measure, policy)]
            base = wide[(measure, baseline)]
            diff = (values - base).dropna()
            n = len(diff)
            mean_diff = float(diff.mean()) if n else np.nan
            if n > 1:
                half = float(
                    stats.t.ppf(0.5 + confidence / 2, n - 1) * diff.std(ddof=1) / np.sqrt(n)
                )
            else:
                half = np.nan
            out.append(
                {
                    "policy": policy,
                    "measure": measure,
                    "mean": float(values.mean()),
                    "difference": mean_diff,
                    "ci_low": mean_diff - half,
                    "ci_high": mean_diff + half,
                    "n_seeds": n,
                    "relative": mean_diff / float(base.mean()) if base.mean() else np.nan,
                }
            )
    return pd.DataFrame(out)
