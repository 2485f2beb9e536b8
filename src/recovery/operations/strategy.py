"""From scores to action: policy table, suppressions, work lists and uplift.

The decision layer of DESIGN.md §4. For each overdue account on a date:

1. :func:`suppressions` — named compliance rules that stop (or limit) contact first:
   open dispute, reported death, active hardship plan, limitation period expired (no
   legal action), contact caps per day and week reached, outside allowed hours;
2. :func:`recommend` — the first matching rule of the policy table
   (``config.strategy.policy``: bucket × p_pay band × p_cure band × balance band ×
   stage → channel, with a reason), so every eligible account gets exactly one
   recommendation, and a suppressed one says why it gets none;
3. :func:`build_worklists` — a daily list per agent ranked by expected net value
   (expected collection − contact cost, or uplift × amount − cost), within capacity;
4. :func:`estimate_uplift` / :class:`UpliftModel` — the effect of treatments measured
   on the randomised champion/challenger share.

Examples
--------
>>> import pandas as pd
>>> state = pd.DataFrame({"account_id": ["A", "B"], "bucket": ["M1", "M1"],
...     "status": ["open", "open"], "p_pay": [0.8, 0.1], "p_cure": [0.6, 0.1],
...     "balance": [900.0, 900.0]})
>>> recommend(state)[["account_id", "action"]].values.tolist()
[['A', 'sms'], ['B', 'call']]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.customers import person_keys
from recovery.data.portfolio import Portfolio
from recovery.operations.compliance import CONTACT_CHANNELS
from recovery.operations.experiments import difference_in_means
from recovery.operations.learners import small_lightgbm

__all__ = [
    "SUPPRESSION_RULES",
    "stage_of",
    "suppressions",
    "recommend",
    "build_worklists",
    "estimate_uplift",
    "UpliftModel",
]

SUPPRESSION_RULES = (
    "open_dispute",
    "deceased_reported",
    "hardship_plan",
    "limitation_expired",
    "daily_contact_cap",
    "weekly_contact_cap",
    "outside_contact_hours",
)
# rules that stop every action; the others only stop some channels
_BLOCK_ALL = ("open_dispute", "deceased_reported", "hardship_plan")


def stage_of(bucket: pd.Series, status: pd.Series) -> pd.Series:
    """Collection stage: ``early`` (M1–M3), ``late`` (M4+), ``charged_off``, or ``current``.

    Examples
    --------
    >>> stage_of(pd.Series(["M2", "M5", None]), pd.Series(["open", "open", "charged_off"])).tolist()
    ['early', 'late', 'charged_off']
    """
    b = bucket.astype(object).fillna("")
    stage = np.where(
        status.eq("charged_off"),
        "charged_off",
        np.where(
            b.isin(["M1", "M2", "M3"]), "early", np.where(b.eq("M0") | b.eq(""), "current", "late")
        ),
    )
    return pd.Series(stage, index=bucket.index)


def _latest(df: pd.DataFrame, time_col: str, date: pd.Timestamp) -> pd.DataFrame:
    return df[df[time_col] <= date]


def suppressions(
    portfolio: Portfolio,
    date: Any,
    config: Config | None = None,
    at: Any = None,
) -> pd.DataFrame:
    """Which suppression rules apply to each account on ``date``.

    Parameters
    ----------
    portfolio : Portfolio
        ``actions``, ``events``, ``schedule`` and ``payments`` as known on ``date``
        (later rows are ignored).
    date : date
        The decision day; contacts already made that day count toward the caps.
    config : Config, optional
        Caps, hours and limitation period from ``config.compliance``.
    at : timestamp, optional
        Planned contact time; outside ``contact_hour_start``–``contact_hour_end`` every
        contact channel is suppressed (letters may still go out).

    Returns
    -------
    pandas.DataFrame
        Indexed by account_id, one boolean column per rule of
        :data:`SUPPRESSION_RULES`. The contact caps and ``deceased_reported`` are per
        person: contacts on any of the customer's accounts (``customer_id`` in
        ``accounts``) count, and a death reported on one account stops them all; an
        account without a customer id is its own person (a
        :class:`~recovery.data.schema.DataNoteWarning` says so).

    Examples
    --------
    >>> from recovery.datasets import tiny_portfolio
    >>> p = tiny_portfolio()
    >>> s = suppressions(p, "2024-03-25")
    >>> bool(s.loc["A2", "hardship_plan"]), bool(s.loc["A1", "hardship_plan"])
    (True, False)
    """
    config = config or Config()
    rules = config.compliance
    day = pd.Timestamp(date).normalize()
    end_of_day = day + pd.Timedelta(days=1)
    ids = pd.Index(portfolio.accounts["account_id"].astype(str), name="account_id")
    out = pd.DataFrame(False, index=ids, columns=list(SUPPRESSION_RULES))
    acts = (
        portfolio.actions
        if portfolio.actions is not None
        else pd.DataFrame(columns=["account_id", "ts", "channel", "outcome"])
    )
    acts = acts[acts["ts"] < end_of_day]
    events = (
        portfolio.events
        if portfolio.events is not None
        else pd.DataFrame(columns=["account_id", "date", "event"])
    )
    events = events[events["date"] <= day]

    def last_time(frame, col, mask):
        return frame.loc[mask, ["account_id", col]].groupby("account_id")[col].max()

    opened = (
        pd.concat(
            [
                last_time(acts, "ts", acts["outcome"].eq("dispute")).dt.normalize(),
                last_time(events, "date", events["event"].eq("dispute_opened")),
            ]
        )
        .groupby(level=0)
        .max()
    )
    closed = last_time(events, "date", events["event"].eq("dispute_closed"))
    dispute = opened.to_frame("opened").join(closed.rename("closed"), how="left")
    open_dispute = dispute.index[dispute["closed"].isna() | (dispute["closed"] < dispute["opened"])]
    out.loc[out.index.intersection(open_dispute), "open_dispute"] = True

    # per person: a death or a contact counts for every account of the customer
    person = person_keys(pd.Series(ids, index=ids), portfolio.accounts)
    dead = set(acts.loc[acts["outcome"].eq("deceased_reported"), "account_id"].astype(str)) | set(
        events.loc[events["event"].eq("deceased"), "account_id"].astype(str)
    )
    out["deceased_reported"] = person.isin(set(person.reindex(list(dead)).dropna()))

    plan_start = last_time(events, "date", events["event"].eq("hardship_plan"))
    plan_end = last_time(events, "date", events["event"].eq("hardship_plan_ended"))
    plans = plan_start.to_frame("start").join(plan_end.rename("end"), how="left")
    active = plans.index[plans["end"].isna() | (plans["end"] < plans["start"])]
    out.loc[out.index.intersection(active), "hardship_plan"] = True

    # limitation: last restart (first due date, payment, promise, demand, lawsuit) + N years
    restarts = []
    if portfolio.schedule is not None:
        restarts.append(portfolio.schedule.groupby("account_id")["due_date"].min())
    if portfolio.payments is not None and len(portfolio.payments):
        pay = portfolio.payments[portfolio.payments["payment_date"] <= day]
        restarts.append(pay.groupby("account_id")["payment_date"].max())
    ack = acts["outcome"].eq("promise_to_pay") | acts["channel"].isin(["legal_notice", "lawsuit"])
    restarts.append(last_time(acts, "ts", ack).dt.normalize())
    if restarts:
        last_restart = pd.concat(restarts).groupby(level=0).max()
        expired = last_restart.index[
            last_restart + pd.DateOffset(years=rules.limitation_years) < day
        ]
        out.loc[out.index.intersection(expired), "limitation_expired"] = True

    contacts = acts[acts["channel"].isin(CONTACT_CHANNELS)]
    contacts = contacts.assign(person=contacts["account_id"].astype(str).map(person))
    today = contacts[contacts["ts"] >= day].groupby("person").size()
    # a contact at time t breaks the weekly cap when (t - 7 days, t] already holds the
    # maximum: count from `at` - 7 days, or from 7 days before the day's start when
    # the time is not known (safe for any time that day)
    week_start = (pd.Timestamp(at) if at is not None else day) - pd.Timedelta(days=7)
    week = contacts[contacts["ts"] > week_start].groupby("person").size()
    out["daily_contact_cap"] = person.map(today).fillna(0).to_numpy() >= rules.max_attempts_per_day
    out["weekly_contact_cap"] = person.map(week).fillna(0).to_numpy() >= rules.max_attempts_per_week

    if at is not None:
        hour = pd.Timestamp(at).hour
        if hour < rules.contact_hour_start or hour >= rules.contact_hour_end:
            out["outside_contact_hours"] = True
    return out


def recommend(
    state: pd.DataFrame,
    suppressed: pd.DataFrame | None = None,
    config: Config | None = None,
) -> pd.DataFrame:
    """One recommended action per account, from the policy table, after suppressions.

    Parameters
    ----------
    state : pandas.DataFrame
        One row per account: ``account_id, bucket, status, p_pay, p_cure, balance``
        (currency), optionally ``has_guarantor``, ``amount_given_payment``.
    suppressed : pandas.DataFrame, optional
        From :func:`suppressions` (indexed by account_id).
    config : Config, optional
        ``config.strategy.policy`` (first matching rule wins).

    Returns
    -------
    pandas.DataFrame
        ``state`` plus ``stage``, ``action`` (a channel, or ``none``), ``reason`` (in
        words), ``rule`` (index of the matching policy rule, -1 when suppressed or
        unmatched) and ``suppressed_by`` (rule names, empty when none).

    Examples
    --------
    >>> state = pd.DataFrame({"account_id": ["A"], "bucket": [None], "status": ["charged_off"],
    ...     "p_pay": [0.05], "p_cure": [0.0], "balance": [9000.0]})
    >>> recommend(state)[["action", "reason"]].values.tolist()[0][0]
    'legal_notice'
    """
    config = config or Config()
    out = state.reset_index(drop=True).copy()
    out["stage"] = stage_of(out["bucket"], out["status"])
    action = np.full(len(out), None, dtype=object)
    reason = np.full(len(out), None, dtype=object)
    rule_no = np.full(len(out), -1)
    guarantor = (
        out["has_guarantor"].fillna(False).astype(bool)
        if "has_guarantor" in out
        else pd.Series(False, index=out.index)
    )
    for i, rule in enumerate(config.strategy.policy):
        m = pd.Series(action == None, index=out.index)  # noqa: E711 - elementwise
        if "stage" in rule:
            m &= out["stage"].eq(rule["stage"])
        if "buckets" in rule:
            m &= out["bucket"].isin(rule["buckets"])
        for col in ("p_pay", "p_cure", "balance"):
            if f"{col}_min" in rule:
                m &= out[col] >= rule[f"{col}_min"]
            if f"{col}_max" in rule:
                m &= out[col] < rule[f"{col}_max"]
        if "has_guarantor" in rule:
            m &= guarantor.eq(bool(rule["has_guarantor"]))
        m = m.to_numpy()
        action[m], reason[m], rule_no[m] = rule["action"], rule["reason"], i
    unmatched = action == None  # noqa: E711
    action[unmatched] = "none"
    reason[unmatched] = "no policy rule matches (current or unknown stage)"
    out["action"], out["reason"], out["rule"] = action, reason, rule_no
    out["suppressed_by"] = ""
    if suppressed is not None and len(suppressed):
        s = suppressed.reindex(out["account_id"].astype(str)).fillna(False).astype(bool)
        s.index = out.index
        blocked_all = s[list(_BLOCK_ALL)].any(axis=1)
        legal = out["action"].isin(config.strategy.legal_channels)
        contact = out["action"].isin(CONTACT_CHANNELS)
        caps = s[["daily_contact_cap", "weekly_contact_cap", "outside_contact_hours"]].any(axis=1)
        blocked = blocked_all | (legal & s["limitation_expired"]) | (contact & caps)
        # rule names per account, built column by column (a loop over rules, not accounts)
        names = pd.Series("", index=s.index)
        for rule in SUPPRESSION_RULES:
            names = names + np.where(s[rule], rule + ",", "")
        out.loc[blocked, "suppressed_by"] = names[blocked].str.rstrip(",")
        # a legal step barred by limitation falls back to a demand letter
        fallback = legal & s["limitation_expired"] & ~blocked_all
        out.loc[fallback, "action"] = "letter"
        out.loc[fallback, "reason"] = (
            "limitation period expired: no legal action; demand letter instead"
        )
        out.loc[fallback, "suppressed_by"] = ""
        stop = blocked & ~fallback
        out.loc[stop, "action"] = "none"
        out.loc[stop, "reason"] = "suppressed: " + out.loc[stop, "suppressed_by"].str.replace(
            ",", ", "
        )
        out.loc[stop, "rule"] = -1
    return out


def build_worklists(
    recommendations: pd.DataFrame,
    agents: pd.DataFrame,
    date: Any,
    config: Config | None = None,
    owner: pd.Series | None = None,
    value: str = "expected_net_value",
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Daily work list per agent: one entry per customer, ranked by value, within capacity.

    A borrower with several overdue loans is one entry: the contact is about all of
    them, so its expected collection is the sum over the customer's accounts and its
    cost one contact's. The entry's action and reason are those of the customer's most
    valuable account (the *lead* account).

    Parameters
    ----------
    recommendations : pandas.DataFrame
        From :func:`recommend`, with ``p_pay`` and ``amount_given_payment`` (currency, as in
        :func:`recovery.models.score_table`); an
        ``uplift`` column (probability points) ranks by uplift when ``value="uplift_value"``.
    agents : pandas.DataFrame
        ``agent_id, team`` (capacity per team from ``config.strategy``).
    date : date
        The working day; planned contact times are spread inside allowed hours.
    config : Config, optional
        ``config.strategy.one_agent_per_customer`` (default true): the whole customer
        goes to one agent — the owner of the most valuable owned account; false keeps
        each account with its own agent (one entry per customer and agent).
    owner : pandas.Series, optional
        Current agent of each account (index account_id); customers without one go to
        the agents of the team that works their stage, in turn, best value first.
    value : {"expected_net_value", "uplift_value"}
        ``p_pay × amount_given_payment − cost`` or ``uplift × amount_given_payment − cost``,
        summed over the customer's accounts, less one contact's cost.
    accounts : pandas.DataFrame, optional
        ``account_id, customer_id``; without it every account is its own customer. An
        account with no customer id is listed on its own (a
        :class:`~recovery.data.schema.DataNoteWarning` says so).

    Returns
    -------
    pandas.DataFrame
        ``agent_id, rank, customer_id, account_id`` (the lead account), ``accounts``
        (number of the customer's overdue accounts in the entry), ``account_ids`` (all of
        them, most valuable first, separated by ``;``), ``held_back`` (those not to be
        collected today, with the rule, e.g. ``K2 (open_dispute)``; empty when none),
        ``action, reason, planned_at, expected_collection`` (sum over the accounts),
        ``cost, value`` — only entries with an action and positive value, at most the
        agent's capacity each.

    Examples
    --------
    >>> rec = pd.DataFrame({"account_id": ["A", "B", "C"], "action": ["call"] * 3,
    ...     "reason": ["r"] * 3, "stage": ["early"] * 3, "p_pay": [0.9, 0.5, 0.2],
    ...     "amount_given_payment": [100.0, 100.0, 100.0]})
    >>> cfg = Config.from_dict({"strategy": {"contacts_per_agent_per_day": {"early": 2}}})
    >>> agents = pd.DataFrame({"agent_id": ["G"], "team": ["early"]})
    >>> build_worklists(rec, agents, "2024-03-04", cfg)["account_id"].tolist()
    ['A', 'B']
    >>> accounts = pd.DataFrame({"account_id": ["A", "B", "C"], "customer_id": ["X", "Y", "X"]})
    >>> wl = build_worklists(rec, agents, "2024-03-04", cfg, accounts=accounts)
    >>> wl[["customer_id", "account_ids", "expected_collection"]].values.tolist()
    [['X', 'A;C', 110.0], ['Y', 'B', 50.0]]
    """
    config = config or Config()
    rec = recommendations.reset_index(drop=True).copy()
    rec["person"] = person_keys(rec["account_id"], accounts, what="work-list entries").to_numpy()
    acting = rec["acting"] = rec["action"].ne("none")
    cost = rec["action"].map(config.costs.per_action).fillna(0.0).where(acting, 0.0)
    gain = rec["p_pay"] * rec["amount_given_payment"]
    rec["expected_collection"] = gain.where(acting, 0.0)
    rec["cost"] = cost
    if value == "uplift_value":
        rec["gain"] = (rec["uplift"] * rec["amount_given_payment"]).where(acting, 0.0)
    else:
        rec["gain"] = rec["expected_collection"]
    rec["account_value"] = (rec["gain"] - cost).where(acting, -np.inf)
    rec["owner"] = rec["account_id"].map(owner).astype(object) if owner is not None else None
    rec = rec.sort_values(["account_value", "account_id"], ascending=[False, True])
    if config.strategy.one_agent_per_customer:
        # the customer's agent: the owner of its most valuable owned account
        rec["owner"] = rec["person"].map(rec.groupby("person")["owner"].first())
        rec["entry"] = rec["person"]
    else:
        rec["entry"] = rec["person"] + "\x00" + rec["owner"].fillna("").astype(str)
    by_entry = rec.groupby("entry", sort=False)
    ids = rec["account_id"].astype(str)
    entries = by_entry.head(1).set_index("entry")  # the lead account (best value first)
    entries["accounts"] = by_entry.size()
    entries["account_ids"] = ids.groupby(rec["entry"], sort=False).agg(";".join)
    # the customer's accounts not to be collected today, with the rule that stops them
    held = rec[~rec["acting"]]
    why = held["suppressed_by"] if "suppressed_by" in held else pd.Series("", index=held.index)
    held_back = held["account_id"].astype(str) + (" (" + why + ")").where(why.ne(""), "")
    entries["held_back"] = (
        held_back.groupby(held["entry"]).agg("; ".join).reindex(entries.index).fillna("")
    )
    entries["expected_collection"] = by_entry["expected_collection"].sum()
    entries["value"] = by_entry["gain"].sum() - entries["cost"]
    entries["customer_id"] = np.where(
        entries["person"].str.startswith("customer "), entries["person"].str[9:], None
    )
    entries = entries[entries["action"].ne("none") & (entries["value"] > 0)]
    entries = entries.rename(columns={"owner": "agent_id"}).reset_index(drop=True)
    team_of_stage = {"early": "early", "late": "late", "charged_off": "legal"}
    capacity = config.strategy.contacts_per_agent_per_day
    agents = agents.copy()
    agents["capacity"] = (
        agents["team"].map(capacity).fillna(capacity.get("default", 40.0)).astype(int)
    )
    # customers without an agent: in turn within the stage's team (or all agents)
    entries = entries.sort_values(["value", "person"], ascending=[False, True])
    entries = entries.reset_index(drop=True)
    free = entries["agent_id"].isna()
    for stage, group in entries[free].groupby("stage"):
        pool = agents.loc[agents["team"].eq(team_of_stage.get(stage, stage)), "agent_id"]
        pool = pool if len(pool) else agents["agent_id"]
        entries.loc[group.index, "agent_id"] = pool.to_numpy()[np.arange(len(group)) % len(pool)]
    entries["rank"] = entries.groupby("agent_id").cumcount() + 1
    entries = entries[
        entries["rank"]
        <= entries["agent_id"].map(agents.set_index("agent_id")["capacity"]).fillna(0)
    ]
    start, end = config.compliance.contact_hour_start, config.compliance.contact_hour_end
    minutes = (end - start) * 60
    per_agent = entries.groupby("agent_id")["rank"].transform("max")
    offset = ((entries["rank"] - 1) / per_agent * minutes).astype(int)
    entries["planned_at"] = (
        pd.Timestamp(date).normalize()
        + pd.Timedelta(hours=start)
        + pd.to_timedelta(offset, unit="min")
    )
    cols = [
        "agent_id",
        "rank",
        "customer_id",
        "account_id",
        "accounts",
        "account_ids",
        "held_back",
        "action",
        "reason",
        "planned_at",
        "expected_collection",
        "cost",
        "value",
    ]
    return entries[cols].sort_values(["agent_id", "rank"]).reset_index(drop=True)


def estimate_uplift(
    data: pd.DataFrame,
    treatment: str = "treated",
    outcome: str = "paid",
    segments: tuple[str, ...] = (),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Treatment effect by segment on randomised data: difference in means with CI.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per randomised account (or account-month) with a boolean
        ``treatment`` column and the ``outcome`` (0/1 or currency).
    segments : tuple of str
        Columns to split by (e.g. bucket); empty for the overall effect.

    Returns
    -------
    pandas.DataFrame
        Per segment: ``effect, ci_low, ci_high, p_value, mean_treated, mean_control,
        n_treated, n_control``.

    Examples
    --------
    >>> d = pd.DataFrame({"treated": [1, 1, 1, 0, 0, 0], "paid": [1, 1, 0, 0, 1, 0]})
    >>> round(estimate_uplift(d)["effect"].item(), 3)
    0.333
    """
    groups = [((), data)] if not segments else list(data.groupby(list(segments), observed=True))
    rows = []
    for key, part in groups:
        t = part[treatment].astype(bool)
        if t.sum() < 2 or (~t).sum() < 2:
            continue
        result = difference_in_means(part[outcome], t, confidence)
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(segments, key, strict=True)), **result})
    return pd.DataFrame(rows)


class UpliftModel:
    """Two-model (T-learner) uplift estimator for randomised data.

    Parameters
    ----------
    estimator : classifier, optional
        Fitted separately on treated and control rows; defaults to a small LightGBM.
    random_state : int

    Attributes
    ----------
    treated_model_, control_model_ : fitted classifiers
    summary : pandas.DataFrame
        Rows and mean outcome per arm, and mean predicted uplift.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"x": rng.normal(size=2000)})
    >>> t = rng.random(2000) < 0.5
    >>> y = rng.random(2000) < 0.2 + 0.2 * t * (X["x"] > 0)
    >>> m = UpliftModel().fit(X, t, y)
    >>> bool(m.predict(pd.DataFrame({"x": [2.0]}))[0] > m.predict(pd.DataFrame({"x": [-2.0]}))[0])
    True
    """

    def __init__(self, estimator: Any = None, random_state: int = 0) -> None:
        self.estimator = estimator
        self.random_state = random_state

    def fit(self, X: pd.DataFrame, treated: Any, y: Any) -> UpliftModel:
        """Fit one outcome model per arm."""
        from sklearn.base import clone

        if self.estimator is None:
            base = small_lightgbm(
                random_state=self.random_state, n_estimators=150, min_child_samples=50
            )
        else:
            base = self.estimator
        t = np.asarray(treated, dtype=bool)
        y = np.asarray(y, dtype=int)
        self.treated_model_ = clone(base).fit(X[t], y[t])
        self.control_model_ = clone(base).fit(X[~t], y[~t])
        self.summary_ = pd.DataFrame(
            {"rows": [int(t.sum()), int((~t).sum())], "mean_outcome": [y[t].mean(), y[~t].mean()]},
            index=pd.Index(["treated", "control"], name="arm"),
        )
        self.summary_["mean_predicted_uplift"] = float(self.predict(X).mean())
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Predicted uplift in probability of the outcome (treated − control)."""
        return (
            self.treated_model_.predict_proba(X)[:, 1] - self.control_model_.predict_proba(X)[:, 1]
        )

    @property
    def summary(self) -> pd.DataFrame:
        """Rows, mean outcome per arm and mean predicted uplift."""
        return self.summary_
