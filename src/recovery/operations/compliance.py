"""Compliance monitoring of collection actions (seed 004: compliance first).

Each rule is a named, vectorised check over the ``actions`` table (and ``events``,
``schedule``, ``payments`` where the rule needs them); :func:`flag_actions` returns one
row per (action, broken rule). Limits come from :class:`recovery.config.ComplianceConfig`.

Rules and why they exist:

``outside_hours``
    Contact before ``contact_hour_start`` or from ``contact_hour_end`` on (default
    08:00–21:00): no calls at night.
``attempts_per_day`` / ``attempts_per_week``
    More contact attempts on one person — across all the customer's accounts — than
    allowed in a calendar day, or in any rolling 7-day window: repeated calling is
    harassment, whichever loan the call is about.
``third_party_excess``
    More third-party contacts (outcome ``third_party_contact``) about one person, across
    the customer's accounts, in a rolling 7-day window than allowed: no harassing
    relatives, employers or neighbours.
``contact_after_dispute``
    Contact on an account after the debtor disputed that debt (outcome ``dispute`` or
    event ``dispute_opened``) and before the dispute was closed: disputes are resolved
    first (per account: the customer's other debts are not disputed).
``contact_after_death``
    Contact after a death was reported on any of the person's accounts: claims go to
    the estate through proper channels.
``legal_after_limitation``
    A lawsuit filed after the limitation period (default 3 years, PRC Civil Code) since
    the last restart — the first due date, a payment, an acknowledgement (promise to
    pay, an accepted offer), a formal demand (legal notice) or an earlier lawsuit
    (Art. 195).
``contact_during_hardship``
    Calls, visits or guarantor contacts while a hardship plan is active: the plan, not
    collection pressure, governs the account.

Only the contact channels (``sms``, ``call``, ``visit``, ``guarantor_contact``) count
as contact attempts; letters, notices and filings are not attempts.

Per person or per account: the frequency limits and the death rule are per person
(the ``customer_id`` of the ``accounts`` table); disputes, hardship plans and the
limitation period belong to one debt and stay per account; the hours rule is per
contact. Without ``accounts`` — or for an account with no customer id, which is said
in a :class:`~recovery.data.schema.DataNoteWarning` — an account is its own person.

Examples
--------
>>> import pandas as pd
>>> actions = pd.DataFrame({"action_id": ["a1", "a2"], "account_id": ["A", "A"],
...     "agent_id": ["G", "G"], "channel": ["call", "call"],
...     "outcome": ["no_answer", "no_answer"],
...     "ts": pd.to_datetime(["2024-03-01 07:30", "2024-03-01 10:00"])})
>>> flag_actions(actions)[["action_id", "rule"]].values.tolist()
[['a1', 'outside_hours']]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.customers import person_keys
from recovery.data.offers import acceptance_day

__all__ = [
    "RULES",
    "CONTACT_CHANNELS",
    "flag_actions",
    "violations_by_agent",
    "dispute_spells",
    "death_times",
    "in_spells",
]

CONTACT_CHANNELS = ("sms", "call", "visit", "guarantor_contact")
RULES = (
    "outside_hours",
    "attempts_per_day",
    "attempts_per_week",
    "third_party_excess",
    "contact_after_dispute",
    "contact_after_death",
    "legal_after_limitation",
    "contact_during_hardship",
)
_WEEK = np.timedelta64(7, "D")


def _rolling_count(account: np.ndarray, ts: np.ndarray, window: np.timedelta64) -> np.ndarray:
    """Count of rows of the same key (account or person) with time in (ts - window, ts],
    rows sorted by key then time."""
    codes = pd.factorize(account)[0].astype(np.int64)
    t = ts.astype("datetime64[s]").astype(np.int64)  # seconds: no overflow at 1M accounts
    w = int(window / np.timedelta64(1, "s"))
    t = t - (t.min() if len(t) else 0)
    # one sortable key per (account, time), accounts further apart than the window
    key = codes * (int(t.max(initial=0)) + w + 1) + t
    lower = key - w
    return np.arange(len(key)) - np.searchsorted(key, lower, side="right") + 1


def _first_time(
    actions: pd.DataFrame,
    events: pd.DataFrame | None,
    outcome: str | None,
    event: str,
) -> pd.Series:
    """Earliest time per account of an outcome in actions or an event in events."""
    parts = []
    if outcome is not None:
        hit = actions.loc[actions["outcome"] == outcome, ["account_id", "ts"]]
        parts.append(hit.rename(columns={"ts": "t"}))
    if events is not None and len(events):
        hit = events.loc[events["event"] == event, ["account_id", "date"]]
        parts.append(hit.rename(columns={"date": "t"}))
    if not parts:
        return pd.Series(dtype="datetime64[ns]")
    return pd.concat(parts).groupby("account_id")["t"].min()


def _spells(events: pd.DataFrame | None, start: str, end: str) -> pd.DataFrame:
    """Spells [start, end) per account from paired events (an open spell has no end)."""
    if events is None or not len(events):
        return pd.DataFrame(columns=["account_id", "start", "end"])
    ev = events[events["event"].isin([start, end])].sort_values(["account_id", "date"])
    ev = ev.assign(is_start=ev["event"].eq(start))
    starts = ev[ev["is_start"]][["account_id", "date"]].rename(columns={"date": "start"})
    ends = ev[~ev["is_start"]][["account_id", "date"]].rename(columns={"date": "end"})
    spells = pd.merge_asof(
        starts.sort_values("start"),
        ends.sort_values("end"),
        left_on="start",
        right_on="end",
        by="account_id",
        direction="forward",
    )
    return spells


def dispute_spells(actions: pd.DataFrame | None, events: pd.DataFrame | None) -> pd.DataFrame:
    """Disputes per account: opened by a ``dispute`` outcome or a ``dispute_opened`` event,
    closed by the next ``dispute_closed`` event.

    Parameters
    ----------
    actions : pandas.DataFrame, optional
        ``account_id``, ``ts``, ``outcome``.
    events : pandas.DataFrame, optional
        ``account_id``, ``date``, ``event``.

    Returns
    -------
    pandas.DataFrame
        ``account_id``, ``start``, ``end`` (NaT while the dispute is open).

    Examples
    --------
    >>> acts = pd.DataFrame({"account_id": ["A"], "outcome": ["dispute"],
    ...     "ts": pd.to_datetime(["2024-03-01 10:00"])})
    >>> ev = pd.DataFrame({"account_id": ["A"], "event": ["dispute_closed"],
    ...     "date": pd.to_datetime(["2024-03-20"])})
    >>> dispute_spells(acts, ev)[["start", "end"]].astype(str).values.tolist()
    [['2024-03-01 10:00:00', '2024-03-20']]
    """
    opened = []
    if actions is not None and len(actions):
        hit = actions.loc[actions["outcome"] == "dispute", ["account_id", "ts"]]
        opened.append(hit.rename(columns={"ts": "date"}))
    if events is not None and len(events):
        opened.append(events.loc[events["event"] == "dispute_opened", ["account_id", "date"]])
    if not opened:
        return _spells(None, "dispute_opened", "dispute_closed")
    dispute_events = pd.concat(opened).assign(event="dispute_opened")
    if events is not None and len(events):
        closed = events.loc[events["event"] == "dispute_closed", ["account_id", "date", "event"]]
        dispute_events = pd.concat([dispute_events, closed])
    return _spells(dispute_events, "dispute_opened", "dispute_closed")


def death_times(actions: pd.DataFrame | None, events: pd.DataFrame | None) -> pd.Series:
    """When the lender first heard of each borrower's death (outcome or event).

    Parameters
    ----------
    actions : pandas.DataFrame, optional
        ``account_id``, ``ts``, ``outcome`` (``deceased_reported``).
    events : pandas.DataFrame, optional
        ``account_id``, ``date``, ``event`` (``deceased``).

    Returns
    -------
    pandas.Series
        Earliest time per ``account_id``.

    Examples
    --------
    >>> ev = pd.DataFrame({"account_id": ["A"], "event": ["deceased"],
    ...     "date": pd.to_datetime(["2024-03-20"])})
    >>> death_times(None, ev).astype(str).to_dict()
    {'A': '2024-03-20'}
    """
    if actions is None:
        actions = pd.DataFrame({"account_id": [], "ts": pd.to_datetime([]), "outcome": []})
    return _first_time(actions, events, "deceased_reported", "deceased")


def in_spells(
    account_ids: pd.Series, times: pd.Series, spells: pd.DataFrame, strict_start: bool
) -> np.ndarray:
    """Whether each (account, time) falls inside one of the account's spells.

    Parameters
    ----------
    account_ids, times : pandas.Series
        The queries.
    spells : pandas.DataFrame
        ``account_id``, ``start``, ``end`` (NaT: open), e.g. :func:`dispute_spells`.
    strict_start : bool
        A time equal to the start is outside (the act that opened the spell).

    Returns
    -------
    numpy.ndarray of bool
    """
    queries = pd.DataFrame({"account_id": account_ids.to_numpy(), "ts": times.to_numpy()})
    return _in_spells(queries, spells, strict_start)


def _in_spells(actions: pd.DataFrame, spells: pd.DataFrame, strict_start: bool) -> np.ndarray:
    """Whether each action's ts falls inside one of its account's spells."""
    if not len(spells) or not len(actions):
        return np.zeros(len(actions), dtype=bool)
    a = actions[["account_id", "ts"]].reset_index().sort_values("ts")
    s = spells.dropna(subset=["start"]).sort_values("start")
    joined = pd.merge_asof(
        a,
        s,
        left_on="ts",
        right_on="start",
        by="account_id",
        direction="backward",
        allow_exact_matches=not strict_start,
    )
    inside = joined["start"].notna() & (joined["end"].isna() | (joined["ts"] < joined["end"]))
    out = np.zeros(len(actions), dtype=bool)
    out[joined["index"].to_numpy()] = inside.to_numpy()
    return out


def flag_actions(
    actions: pd.DataFrame,
    config: Config | None = None,
    events: pd.DataFrame | None = None,
    schedule: pd.DataFrame | None = None,
    payments: pd.DataFrame | None = None,
    offers: pd.DataFrame | None = None,
    accounts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Flag every collection action that breaks a compliance rule.

    Parameters
    ----------
    actions : pandas.DataFrame
        The ``actions`` table (action_id, account_id, agent_id, ts, channel, outcome).
    config : Config, optional
        Limits from ``config.compliance`` (hours, attempts per day and week, third-party
        contacts per week, limitation period in years).
    events : pandas.DataFrame, optional
        ``events`` (disputes, deaths, hardship plans).
    schedule, payments : pandas.DataFrame, optional
        Needed for ``legal_after_limitation`` (first due date, payments restart the
        clock); without ``schedule`` that rule is not checked.
    offers : pandas.DataFrame, optional
        An accepted offer acknowledges the debt: it restarts the limitation clock on the
        day it was accepted.
    accounts : pandas.DataFrame, optional
        ``account_id``, ``customer_id``: the frequency limits and the death rule then
        count per person across the customer's accounts. Without it, per account.

    Returns
    -------
    pandas.DataFrame
        One row per (action, rule): action_id, account_id, agent_id, ts, channel, rule.
        Empty when every action complies.

    Examples
    --------
    >>> acts = pd.DataFrame({"action_id": ["a1", "a2", "a3"], "account_id": ["A"] * 3,
    ...     "agent_id": ["G"] * 3, "channel": ["call"] * 3,
    ...     "outcome": ["dispute", "no_answer", "no_answer"],
    ...     "ts": pd.to_datetime(["2024-03-01 10:00", "2024-03-02 10:00",
    ...                           "2024-03-02 11:00"])})
    >>> flag_actions(acts)["action_id"].tolist()
    ['a2', 'a3']
    """
    config = config or Config()
    rules = config.compliance
    cols = ["action_id", "account_id", "agent_id", "ts", "channel"]
    if actions is None or not len(actions):
        return pd.DataFrame(columns=[*cols, "rule"])
    acts = actions.sort_values(["account_id", "ts", "action_id"]).reset_index(drop=True)
    ts = acts["ts"]
    contact = acts["channel"].isin(CONTACT_CHANNELS).to_numpy()
    flags: dict[str, np.ndarray] = {}

    hour = ts.dt.hour.to_numpy()
    flags["outside_hours"] = contact & (
        (hour < rules.contact_hour_start) | (hour >= rules.contact_hour_end)
    )

    ids = [acts["account_id"]]
    if events is not None and len(events):
        ids.append(events["account_id"])
    unique_ids = pd.Series(pd.unique(pd.concat(ids).astype(str)))
    person_of = pd.Series(person_keys(unique_ids, accounts).to_numpy(), index=unique_ids.to_numpy())
    acts["person"] = acts["account_id"].astype(str).map(person_of)
    # the person's contacts in time order (across accounts)
    c = acts[contact].sort_values(["person", "ts", "action_id"])
    per_day = c.groupby([c["person"], c["ts"].dt.normalize()]).cumcount().to_numpy() + 1
    mask = np.zeros(len(acts), dtype=bool)
    mask[c.index[per_day > rules.max_attempts_per_day]] = True
    flags["attempts_per_day"] = mask

    weekly = _rolling_count(c["person"].to_numpy(), c["ts"].to_numpy(), _WEEK)
    mask = np.zeros(len(acts), dtype=bool)
    mask[c.index[weekly > rules.max_attempts_per_week]] = True
    flags["attempts_per_week"] = mask

    t = acts[acts["outcome"].eq("third_party_contact")].sort_values(["person", "ts", "action_id"])
    count = _rolling_count(t["person"].to_numpy(), t["ts"].to_numpy(), _WEEK)
    mask = np.zeros(len(acts), dtype=bool)
    mask[t.index[count > rules.max_third_party_per_week]] = True
    flags["third_party_excess"] = mask

    spells = dispute_spells(acts, events)
    flags["contact_after_dispute"] = contact & _in_spells(acts, spells, strict_start=True)

    deaths = death_times(acts, events)
    died = acts["person"].map(
        deaths.groupby(person_of.reindex(deaths.index.astype(str)).to_numpy()).min()
    )
    flags["contact_after_death"] = contact & (ts > died).fillna(False).to_numpy()

    flags["legal_after_limitation"] = _legal_after_limitation(
        acts, rules.limitation_years, schedule, payments, offers
    )

    hardship = _spells(events, "hardship_plan", "hardship_plan_ended")
    pressure = acts["channel"].isin(["call", "visit", "guarantor_contact"]).to_numpy()
    flags["contact_during_hardship"] = pressure & _in_spells(acts, hardship, strict_start=False)

    out = []
    for rule in RULES:
        hit = acts.loc[flags[rule], cols]
        out.append(hit.assign(rule=rule))
    result = pd.concat(out, ignore_index=True)
    return result.sort_values(["ts", "action_id", "rule"]).reset_index(drop=True)


def _legal_after_limitation(
    acts: pd.DataFrame,
    years: int,
    schedule: pd.DataFrame | None,
    payments: pd.DataFrame | None,
    offers: pd.DataFrame | None,
) -> np.ndarray:
    lawsuit = (acts["channel"] == "lawsuit").to_numpy()
    if schedule is None or not lawsuit.any():
        return np.zeros(len(acts), dtype=bool)
    restarts = [
        schedule.groupby("account_id", as_index=False)["due_date"]
        .min()
        .rename(columns={"due_date": "t"})
    ]
    if payments is not None and len(payments):
        restarts.append(
            payments[["account_id", "payment_date"]].rename(columns={"payment_date": "t"})
        )
    if offers is not None and len(offers) and "outcome" in offers:
        accepted = offers[offers["outcome"].astype(object) == "accepted"]
        restarts.append(
            pd.DataFrame({"account_id": accepted["account_id"], "t": acceptance_day(accepted)})
        )
    ack = acts["outcome"].eq("promise_to_pay") | acts["channel"].isin(["legal_notice", "lawsuit"])
    restarts.append(acts.loc[ack, ["account_id", "ts"]].rename(columns={"ts": "t"}))
    restart = pd.concat(restarts, ignore_index=True).dropna().sort_values("t")
    suits = acts.loc[lawsuit, ["account_id", "ts"]].reset_index().sort_values("ts")
    joined = pd.merge_asof(
        suits,
        restart,
        left_on="ts",
        right_on="t",
        by="account_id",
        direction="backward",
        allow_exact_matches=False,  # the lawsuit itself does not restart its own clock
    )
    expiry = joined["t"] + pd.DateOffset(years=years)
    late = (joined["ts"] > expiry).fillna(False).to_numpy()
    out = np.zeros(len(acts), dtype=bool)
    out[joined["index"].to_numpy()[late]] = True
    return out


def violations_by_agent(flags: pd.DataFrame, actions: pd.DataFrame) -> pd.DataFrame:
    """Violations per agent and rule, with the agent's action count and rate.

    Examples
    --------
    >>> acts = pd.DataFrame({"action_id": ["a1", "a2"], "account_id": ["A", "B"],
    ...     "agent_id": ["G", "G"], "channel": ["call", "call"],
    ...     "outcome": ["no_answer"] * 2,
    ...     "ts": pd.to_datetime(["2024-03-01 22:00", "2024-03-01 10:00"])})
    >>> violations_by_agent(flag_actions(acts), acts)[["agent_id", "outside_hours", "actions"]].values.tolist()
    [['G', 1, 2]]
    """
    counts = (
        flags.groupby(["agent_id", "rule"]).size().unstack("rule", fill_value=0)
        if len(flags)
        else pd.DataFrame(index=pd.Index([], name="agent_id"))
    )
    counts = counts.reindex(columns=list(RULES), fill_value=0)
    total = actions.groupby("agent_id").size().rename("actions")
    out = counts.reindex(total.index, fill_value=0).join(total)
    flagged = flags.drop_duplicates("action_id").groupby("agent_id").size()
    out["violations"] = flagged.reindex(out.index, fill_value=0)
    out["violation_rate"] = out["violations"] / out["actions"]
    return (
        out.reset_index()
        .sort_values(["violations", "agent_id"], ascending=[False, True])
        .reset_index(drop=True)
    )
