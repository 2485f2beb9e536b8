"""Contact features: the one file per account (一户一档) up to an as-of date (DESIGN.md §3).

From the ``actions`` ledger, up to the end of the as-of day: attempts and right-party
contacts by channel and window, the last outcome, reason and attitude, the furthest
escalation, promises to pay (made, kept, broken, pending) and what the debtor said
(stated reasons, hardships) and how collectors saw them (attitudes). The features are
those of the catalogue in group ``contact`` (:mod:`~recovery.timeline.catalogue`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.timeline.catalogue import CONTACT_WINDOWS_DAYS
from recovery.timeline.days import day_numbers, to_datetimes
from recovery.timeline.events import Events, PairColumns, Pairs
from recovery.timeline.known_at import known_at_as_of
from recovery.timeline.payment_features import valid_payments

__all__ = [
    "contact_features",
    "contact_columns",
    "HARDSHIP_REASONS",
    "RIGHT_PARTY_OUTCOMES",
    "ESCALATION_STAGES",
]

#: stated reasons that name a hardship (a shock to the debtor's ability to pay)
HARDSHIP_REASONS = ("job_loss", "illness", "business_failure", "market", "family")
#: outcomes that mean the debtor was reached (a right-party contact)
RIGHT_PARTY_OUTCOMES = ("right_party_contact", "promise_to_pay", "refusal", "dispute", "hardship")
#: escalation stage of each action channel (0 = none): letter 1, visit 2, legal 3
ESCALATION_STAGES = {"letter": 1, "visit": 2, "legal_notice": 3, "lawsuit": 3}


def contact_features(
    portfolio: Portfolio, pairs: pd.DataFrame, config: Config | None = None
) -> pd.DataFrame:
    """Contact behaviour (the 一户一档 ledger) of each (account_id, as_of) pair.

    Uses actions up to the end of the ``as_of`` day. A promise to pay (an action with
    a ``promise_date``, or outcome ``promise_to_pay``) is *kept* when payments posted
    from the day it was made to its date + ``config.labels.promise_grace_days`` add up
    to its amount (less ``config.aging.tolerance``; any payment when no amount was
    given), *broken* when that deadline is on or before ``as_of`` and it was not kept,
    and *pending* otherwise — a promise dated after ``as_of`` is never broken.

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``actions`` (an empty ledger gives zero counts) and ``payments``.
    pairs : pandas.DataFrame
        Columns ``account_id``, ``as_of``.
    config : Config, optional
        Action channels, outcomes, reasons and attitudes (``categories``), the promise
        grace days (``labels.promise_grace_days``) and ``aging.tolerance``.

    Returns
    -------
    pandas.DataFrame
        One row per pair: ``account_id, as_of`` and the contact features.

    Examples
    --------
    >>> acts = pd.DataFrame({"action_id": ["1", "2"], "account_id": ["A", "A"],
    ...     "agent_id": "G", "ts": pd.to_datetime(["2024-03-01 10:00", "2024-03-05 11:00"]),
    ...     "channel": ["call", "call"], "outcome": ["no_answer", "promise_to_pay"],
    ...     "promise_amount": [None, 100.0],
    ...     "promise_date": pd.to_datetime([None, "2024-03-20"])})
    >>> pays = pd.DataFrame({"account_id": ["A"], "amount": [100.0], "channel": "cash",
    ...     "payment_date": pd.to_datetime(["2024-03-21"])})
    >>> pf = Portfolio(actions=acts, payments=pays)
    >>> q = pd.DataFrame({"account_id": "A", "as_of": pd.to_datetime(["2024-03-10", "2024-03-31"])})
    >>> contact_features(pf, q)[["attempts_call_30d", "promises_pending", "promises_kept"]]
       attempts_call_30d  promises_pending  promises_kept
    0                2.0               1.0            0.0
    1                1.0               0.0            1.0
    """
    config = config or Config()
    return known_at_as_of(contact_columns, portfolio, pairs, config).frame()


def contact_columns(portfolio: Portfolio, pairs: pd.DataFrame, config: Config) -> PairColumns:
    """The contact features of pairs as :class:`~recovery.timeline.events.PairColumns`.

    The vectorised core of :func:`contact_features` (same parameters, ``config``
    required; one row per pair, in order). It counts every recorded payment reversal:
    :func:`contact_features` runs it through
    :func:`~recovery.timeline.known_at.known_at_as_of`, since whether a promise was kept
    depends on the payments known at as_of.
    """
    p = Pairs.of(pairs)
    out = PairColumns(p.frame)
    acts = portfolio.actions
    if acts is None:
        acts = pd.DataFrame(columns=["account_id", "ts", "channel", "outcome"])
    code = p.code(acts["account_id"]) if len(acts) else np.empty(0, dtype="int64")
    acts = acts[code >= 0]
    code = code[code >= 0]
    day = day_numbers(to_datetimes(acts["ts"]).dt.normalize()) if len(acts) else code
    # label columns as integer codes, compared by code (no string per row)
    labels = {
        c: _Labels(acts[c]) for c in ("channel", "outcome", "reason_code", "attitude") if c in acts
    }
    channel = labels["channel"]
    rpc = labels["outcome"].isin(RIGHT_PARTY_OUTCOMES)
    values: dict[str, np.ndarray] = {"rpc": rpc}
    for ch in config.categories.action_channels:
        values[f"a_{ch}"] = channel == ch
        values[f"r_{ch}"] = (channel == ch) & rpc
    values.update(_conversation_values(labels, len(code), config))
    # one table of events for every count (windows' bounds searched once); "row" is the
    # order of the events, to read other masks of the actions in it
    ev = Events(code, day, row=np.arange(len(code)), **values)
    order = ev.values["row"]
    for days in CONTACT_WINDOWS_DAYS:
        out[f"attempts_{days}d"] = ev.window(None, p.codes, p.days, days)
        out[f"right_party_contacts_{days}d"] = ev.window("rpc", p.codes, p.days, days)
        for ch in config.categories.action_channels:
            out[f"attempts_{ch}_{days}d"] = ev.window(f"a_{ch}", p.codes, p.days, days)
            out[f"right_party_contacts_{ch}_{days}d"] = ev.window(f"r_{ch}", p.codes, p.days, days)
    att = np.asarray(out["attempts_90d"])
    out["contact_rate_90d"] = np.where(
        att > 0, np.asarray(out["right_party_contacts_90d"]) / np.maximum(att, 1), np.nan
    )
    out["days_since_last_action"] = ev.since(p.codes, p.days)
    out["days_since_last_contact"] = _since(ev, _last_where(ev, rpc[order], p), p)
    cats = config.categories
    for column, source, allowed in (
        ("last_outcome", "outcome", cats.outcomes),
        ("last_reason", "reason_code", cats.reason_codes),
        ("last_attitude", "attitude", cats.attitudes),
    ):
        cat = np.full(len(p.codes), -1, dtype="int64")  # -1: none (NaN)
        if source in labels:
            lab = labels[source]
            has = (lab.codes >= 0) & ~(lab == "unknown")
            # each label's position among the allowed categories (-1: not one of them)
            position = np.r_[pd.Index(list(allowed)).get_indexer(lab.uniques), -1]
            idx = _last_where(ev, has[order], p)
            if len(ev):
                cat = np.where(idx >= 0, position[lab.codes[order]][np.maximum(idx, 0)], -1)
        out[column] = pd.Categorical.from_codes(cat, categories=list(allowed))
    stage = np.zeros(len(code), dtype="int64")
    for ch, s in ESCALATION_STAGES.items():
        stage[channel == ch] = s
    # running maximum per account: codes are sorted, so code * 10 + stage only grows
    if len(ev):
        st = stage[order]
        running = np.maximum.accumulate(ev.codes * 10 + st) - ev.codes * 10
        idx = ev.last(p.codes, p.days)
        out["escalation_stage"] = np.where(idx >= 0, running[np.maximum(idx, 0)], 0)
    else:
        out["escalation_stage"] = 0
    for column, ch in (("guarantor_contacted", "guarantor_contact"), ("outsourced", "outsource")):
        # one such action to date: the last one on or before as_of has a date
        idx = _last_where(ev, (channel == ch)[order], p)
        out[column] = (idx >= 0) & (ev.days[np.maximum(idx, 0)] >= 0) if len(ev) else idx >= 0
    _promise_features(out, portfolio, acts, labels, code, day, p, config)
    _conversation_features(out, ev, order, p, config)
    return out


def _last_where(ev: Events, mask: np.ndarray, p: Pairs) -> np.ndarray:
    """For each pair, the index in ``ev`` of the account's last event on or before
    as_of with ``mask`` set (``mask`` in the events' order), -1 if none: what
    ``Events(codes[mask], days[mask]).last`` finds, without searching again."""
    idx = ev.last(p.codes, p.days)
    if not len(ev):
        return idx
    running = np.maximum.accumulate(np.where(mask, np.arange(len(mask)), -1))
    idx = np.where(idx >= 0, running[np.maximum(idx, 0)], -1)
    ok = (idx >= 0) & (ev.codes[np.maximum(idx, 0)] == p.codes)
    return np.where(ok, idx, -1)


def _since(ev: Events, idx: np.ndarray, p: Pairs) -> np.ndarray:
    """Days from the event at ``idx`` (-1: none, NaN) to each pair's as_of."""
    if not len(ev):
        return np.full(len(p.codes), np.nan)
    return np.where(idx >= 0, p.days - ev.days[np.maximum(idx, 0)], np.nan)


class _Labels:
    """A label column as integer codes, compared by code: ``labels == "call"`` is what
    ``column.astype(str) == "call"`` is, without comparing every row's string."""

    def __init__(self, column: pd.Series):
        codes, uniques = pd.factorize(column)
        self.codes = codes
        self.uniques = np.asarray(uniques, dtype=object)
        self.names = np.array([str(u) for u in uniques] + ["nan"], dtype=object)  # -1: missing

    def __len__(self) -> int:
        return len(self.codes)

    def __eq__(self, value: object) -> np.ndarray:  # type: ignore[override]
        return (self.names == value)[self.codes]

    def isin(self, values: tuple[str, ...]) -> np.ndarray:
        return np.isin(self.names, values)[self.codes]


def _conversation_values(labels: dict, n_acts: int, config: Config) -> dict[str, np.ndarray]:
    """Masks of the actions that :func:`_conversation_features` counts."""
    missing = _Labels(pd.Series(np.full(n_acts, None, dtype=object)))
    reason = labels.get("reason_code", missing)
    attitude = labels.get("attitude", missing)
    has_reason = reason.codes >= 0
    stated = has_reason & ~(reason == "unknown")
    recorded = (attitude.codes >= 0) & ~(attitude == "unknown")
    kinds = [a for a in config.categories.attitudes if a != "unknown"]
    return {
        "any_reason": has_reason,
        "stated": stated,
        "hardship": stated & reason.isin(HARDSHIP_REASONS),
        "cash": stated & (reason == "cash_flow"),
        "claim": labels["outcome"] == "hardship",
        "recorded": recorded,
        **{f"attitude_{a}": recorded & (attitude == a) for a in kinds},
    }


def _conversation_features(out, ev: Events, order: np.ndarray, p: Pairs, config: Config) -> None:
    """Stated reasons and recorded attitudes over the history (what the debtor says).

    A stated hardship points to a shock to the debtor's ability; the attitudes
    collectors record, pooled over many conversations, point to the debtor's type.
    The masks of :func:`_conversation_values` are values of ``ev``.
    """
    h90 = ev.window("hardship", p.codes, p.days, 90)
    s90 = ev.window("stated", p.codes, p.days, 90)
    out["hardship_reasons_90d"] = h90
    out["hardship_reason_share_90d"] = np.where(s90 > 0, h90 / np.maximum(s90, 1), np.nan)
    hardship = ev.values["hardship"].astype(bool)
    out["days_since_hardship_reason"] = _since(ev, _last_where(ev, hardship, p), p)
    out["hardship_claims_90d"] = ev.window("claim", p.codes, p.days, 90)
    n_stated = ev.window("stated", p.codes, p.days, None)
    n_any = ev.window("any_reason", p.codes, p.days, None)
    out["reasons_stated"] = n_stated
    out["reason_cash_flow_share"] = np.where(
        n_stated > 0, ev.window("cash", p.codes, p.days, None) / np.maximum(n_stated, 1), np.nan
    )
    out["reason_unknown_share"] = np.where(
        n_any > 0, (n_any - n_stated) / np.maximum(n_any, 1), np.nan
    )
    n_att = ev.window("recorded", p.codes, p.days, None)
    out["attitudes_recorded"] = n_att
    for a in [a for a in config.categories.attitudes if a != "unknown"]:
        share = ev.window(f"attitude_{a}", p.codes, p.days, None) / np.maximum(n_att, 1)
        out[f"attitude_{a}_share"] = np.where(n_att > 0, share, np.nan)


def _promise_features(out, portfolio, acts, labels, code, day, p: Pairs, config: Config) -> None:
    if len(acts):
        is_promise = labels["outcome"] == "promise_to_pay"
        if "promise_date" in acts:
            is_promise |= to_datetimes(acts["promise_date"]).notna().to_numpy()
    else:
        is_promise = np.zeros(0, dtype=bool)
    pr_code = code[is_promise]
    start = day[is_promise]
    if "promise_date" in acts and is_promise.any():
        promised = day_numbers(to_datetimes(acts["promise_date"]).to_numpy()[is_promise])
        promised = np.where(promised < 0, start, promised)
    else:
        promised = start.copy()
    deadline = np.maximum(promised, start) + config.labels.promise_grace_days
    if "promise_amount" in acts and is_promise.any():
        amount = pd.to_numeric(acts["promise_amount"], errors="coerce").to_numpy()[is_promise]
    else:
        amount = np.full(len(start), np.nan)
    amount = amount.astype("float64")
    need = np.where(np.isnan(amount), 1e-9, np.maximum(amount - config.aging.tolerance, 1e-9))
    # kept day: first payment at which payments since the promise day reach the amount.
    # The cumulative sum of all valid payments (sorted by account, day) is increasing,
    # so one searchsorted finds it for every promise at once.
    if portfolio.payments is not None and len(pr_code):
        pev, _ = valid_payments(portfolio, p)
        cum = pev.cum("amount")
        base = cum[pev.first_from(pr_code, start)]
        j = np.searchsorted(cum, base + need, side="left") - 1  # index of that payment
        jj = np.clip(j, 0, max(len(pev) - 1, 0))
        kept_ok = (
            (j >= 0) & (j < len(pev)) & (pev.codes[jj] == pr_code) & (pev.days[jj] <= deadline)
            if len(pev)
            else np.zeros(len(pr_code), dtype=bool)
        )
        kept_day = np.where(kept_ok, pev.days[jj] if len(pev) else 0, -1)
    else:
        kept_ok = np.zeros(len(pr_code), dtype=bool)
        kept_day = np.full(len(pr_code), -1)
    amt0 = np.nan_to_num(amount)
    made = Events(pr_code, start, amount=amt0)
    kept = Events(pr_code[kept_ok], kept_day[kept_ok], amount=amt0[kept_ok])
    broken = Events(pr_code[~kept_ok], deadline[~kept_ok], amount=amt0[~kept_ok])
    n_made = made.window(None, p.codes, p.days, None)
    n_kept = kept.window(None, p.codes, p.days, None)
    n_broken = broken.window(None, p.codes, p.days, None)
    out["promises_made"] = n_made
    out["promises_made_90d"] = made.window(None, p.codes, p.days, 90)
    out["promises_kept"] = n_kept
    out["promises_broken"] = n_broken
    out["promises_broken_90d"] = broken.window(None, p.codes, p.days, 90)
    out["promises_pending"] = n_made - n_kept - n_broken
    settled = n_kept + n_broken
    out["promise_keep_rate"] = np.where(settled > 0, n_kept / np.maximum(settled, 1), np.nan)
    pending = (
        made.window("amount", p.codes, p.days, None)
        - kept.window("amount", p.codes, p.days, None)
        - broken.window("amount", p.codes, p.days, None)
    )
    out["pending_promise_amount"] = np.round(np.maximum(pending, 0.0), 6)
    out["days_since_last_promise"] = made.since(p.codes, p.days)
