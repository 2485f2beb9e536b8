"""The case file of a customer (一户一档): one dated timeline across all its accounts.

Seed 000's collectors start each day from one file per customer with every contact,
the reason for falling behind, the borrower's willingness and the agreed solution.
:func:`case_file` builds it from the event tables as they were known at ``as_of``:

- **accounts**: per account, its state at ``as_of`` (bucket, DPD, balance, debt age,
  status, charge-off date — :func:`recovery.timeline.aging.account_states`), the agent
  holding it, the limitation clock (:func:`recovery.operations.limitation.limitation_expiry`),
  the suppression rules in force (:func:`recovery.operations.strategy.suppressions`, the
  contact caps counted per person by
  :func:`recovery.operations.contact_allowance.contact_allowance`) and what the strategy
  recommends (:func:`recovery.operations.strategy.recommend`);
- **timeline**: one row per dated event — installments due, payments and reversals,
  delinquency starts and cures, contacts and their outcomes, promises kept or broken,
  agent spells, restructures (schedule versions), charge-off, payoff, offers, and the
  ``events`` table (death, dispute, fraud …) — each with the account's DPD, bucket and
  balance at the end of that day;
- **series**: the account's DPD and balance on every day anything changed (and the day
  before), the points of the case figure;
- **scores** over time when models are given.

Point in time: everything comes from :func:`recovery.timeline.known_at.point_in_time`, so
nothing known only after ``as_of`` appears — a payment reversed after ``as_of`` is a good
payment, a death notified after it is not there, a promise dated on or after it is open.
With only a monthly performance table (``snapshots``) the file holds statuses and
balances by month end and says which parts need the event tables.

Free-text notes stay out unless ``notes=True`` (and the portfolio was loaded with them:
:func:`recovery.data.io.load_portfolio` drops them by default).

Examples
--------
>>> from recovery.datasets import tiny_portfolio
>>> case = case_file(tiny_portfolio(), account_id="A1", as_of="2024-03-31")
>>> case.accounts[["account_id", "status", "dpd"]].values.tolist()
[['A1', 'open', 21]]
>>> bool(case.timeline["date"].is_monotonic_increasing)
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.contract import FREE_TEXT_COLUMNS
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError
from recovery.operations.compliance import CONTACT_CHANNELS
from recovery.operations.contact_allowance import contact_allowance, customer_of
from recovery.operations.limitation import limitation_expiry
from recovery.operations.strategy import recommend, suppressions
from recovery.report.case_timeline import TIMELINE_COLUMNS, CaseTimeline
from recovery.timeline.known_at import point_in_time

__all__ = [
    "TIMELINE_COLUMNS",
    "EVENT_TABLE_PARTS",
    "CaseFile",
    "case_file",
    "case_files",
    "customer_accounts",
]

#: Parts of the case file that need event tables, and the tables (the monthly path
#: says which are missing).
EVENT_TABLE_PARTS = (
    ("dues and the day-by-day DPD", "schedule"),
    ("payments and reversals", "payments"),
    ("contacts, promises, stated reason and attitude", "actions"),
    ("agent spells", "assignments"),
    ("death, dispute, fraud and other account events", "events"),
    ("offers", "offers"),
)

_SPELL_KEYS = ("account_id", "agent_id", "start_date", "end_date")


@dataclass
class CaseFile:
    """One customer's case file at ``as_of`` (see the module text).

    Attributes
    ----------
    customer_id : str
    as_of : pandas.Timestamp
        Last day known (inclusive).
    source : str
        ``events`` (the event tables) or ``monthly`` (a monthly performance table only).
    accounts : pandas.DataFrame
        One row per account: ``account_id``, ``product``, ``origination_date``,
        ``principal`` (currency), ``status``, ``bucket``, ``dpd`` (days), ``balance``,
        ``amount_overdue`` (currency), ``debt_age_days`` (days), ``charge_off_date``,
        ``agent_id`` (holding it at ``as_of``), ``limitation_restart``,
        ``limitation_expires``, ``suppressed_by`` (rules in force, comma-separated),
        ``action``, ``action_reason`` (the strategy's recommendation), ``p_pay`` and
        ``p_cure`` (NaN without models).
    timeline : pandas.DataFrame
        :data:`TIMELINE_COLUMNS`, oldest first.
    series : pandas.DataFrame
        ``account_id``, ``date``, ``dpd`` (days), ``balance`` (currency), ``status``.
    spells : pandas.DataFrame
        ``account_id``, ``agent_id``, ``start_date``, ``end_date`` (NaT: still open).
    contacts : dict
        The customer's row of :func:`~recovery.operations.contact_allowance.contact_allowance`
        (empty without ``actions``).
    profile : dict
        ``last_contact`` (a timeline row as dict, or None), ``open_promises`` and
        ``open_offers`` (DataFrames), ``reason`` and ``attitude`` (last recorded, or
        None).
    scores : pandas.DataFrame or None
        ``account_id``, ``as_of`` and the scores (``p_pay``, ``p_cure`` …) at each month
        end the account was overdue, and at ``as_of``.
    missing : list of str
        Parts of the file the data cannot give (their tables are absent).
    """

    customer_id: str
    as_of: pd.Timestamp
    source: str
    accounts: pd.DataFrame
    timeline: pd.DataFrame
    series: pd.DataFrame
    spells: pd.DataFrame
    contacts: dict = field(default_factory=dict)
    profile: dict = field(default_factory=dict)
    scores: pd.DataFrame | None = None
    missing: list = field(default_factory=list)
    config: Config = field(default_factory=Config, repr=False)

    def __repr__(self) -> str:
        return (
            f"CaseFile(customer_id={self.customer_id!r}, as_of={self.as_of.date()}, "
            f"accounts={len(self.accounts)}, events={len(self.timeline)})"
        )


# --------------------------------------------------------------------------- entry points
def customer_accounts(
    accounts: pd.DataFrame | None,
    customer_id: str | None = None,
    account_id: str | None = None,
    snapshots: pd.DataFrame | None = None,
) -> tuple[str, list[str]]:
    """The customer and all its account ids, from a customer or one of its accounts.

    Parameters
    ----------
    accounts : pandas.DataFrame, optional
        ``account_id``, ``customer_id``; without it (or without ``customer_id``) an
        account is its own customer.
    customer_id, account_id : str, optional
        Exactly one of them.
    snapshots : pandas.DataFrame, optional
        Where accounts are looked up when ``accounts`` is absent.

    Returns
    -------
    (str, list of str)

    Examples
    --------
    >>> acc = pd.DataFrame({"account_id": ["A", "B", "C"], "customer_id": ["K", "K", "L"]})
    >>> customer_accounts(acc, account_id="B")
    ('K', ['A', 'B'])
    """
    if (customer_id is None) == (account_id is None):
        raise DataError("give exactly one of customer_id and account_id")
    known = accounts if accounts is not None else snapshots
    if known is None:
        raise DataError("the case file needs the 'accounts' table (or 'snapshots')")
    ids = known["account_id"].astype(str)
    if account_id is not None:
        account_id = str(account_id)
        if not ids.eq(account_id).any():
            raise DataError(f"account {account_id} is not in the data")
        customer_id = customer_of([account_id], accounts).iloc[0]
    owner = customer_of(ids.to_numpy(), accounts)
    mine = pd.unique(ids[owner.eq(str(customer_id)).to_numpy()])
    if not len(mine):
        raise DataError(
            f"customer {customer_id} is not in the data (table 'accounts', column customer_id)"
        )
    return str(customer_id), sorted(mine)


def case_file(
    portfolio: Portfolio,
    customer_id: str | None = None,
    account_id: str | None = None,
    as_of: Any = None,
    models: Mapping[str, Any] | Iterable[Any] | None = None,
    config: Config | None = None,
    *,
    notes: bool = False,
) -> CaseFile:
    """The case file of one customer, as known at the end of ``as_of``.

    Parameters
    ----------
    portfolio : Portfolio
        Event tables (``accounts``, ``schedule``, ``payments``; ``actions``,
        ``assignments``, ``events``, ``offers`` when present), or a monthly
        performance table (``snapshots``, optionally ``accounts``).
    customer_id, account_id : str, optional
        Exactly one: the customer, or one of its accounts (the file covers all the
        customer's accounts).
    as_of : date, optional
        Last day known (default: the data end).
    models : mapping or iterable of Scorer, optional
        Fitted or loaded scorers (``p_pay``, ``p_cure`` …; a mapping target → scorer or
        scorers with a ``target``): scores over time and the strategy's recommendation.
    config : Config, optional
        Aging, compliance (contact limits, hours, limitation period) and strategy.
    notes : bool
        Keep free-text notes of the actions in the timeline (off by default).

    Returns
    -------
    CaseFile

    Examples
    --------
    >>> from recovery.datasets import tiny_portfolio
    >>> case = case_file(tiny_portfolio(), customer_id="C2", as_of="2024-03-31")
    >>> case.timeline.groupby("event").size()["payment"] > 0
    np.True_
    """
    config = config or Config()
    customer, ids = customer_accounts(
        portfolio.accounts, customer_id, account_id, portfolio.snapshots
    )
    return next(
        iter(
            case_files(
                portfolio.subset(ids), [customer], as_of, models, config, notes=notes
            ).values()
        )
    )


def case_files(
    portfolio: Portfolio,
    customer_ids: Iterable[str] | None = None,
    as_of: Any = None,
    models: Mapping[str, Any] | Iterable[Any] | None = None,
    config: Config | None = None,
    *,
    notes: bool = False,
) -> dict[str, CaseFile]:
    """The case files of many customers at once (one vectorised pass over their accounts).

    Parameters
    ----------
    portfolio : Portfolio
    customer_ids : iterable of str, optional
        Default: every customer with an account opened by ``as_of``.
    as_of, models, config, notes
        As in :func:`case_file`.

    Returns
    -------
    dict of str to CaseFile
        In the order of ``customer_ids``.

    Examples
    --------
    >>> from recovery.datasets import tiny_portfolio
    >>> sorted(case_files(tiny_portfolio(), as_of="2024-03-31"))
    ['C1', 'C2']
    """
    config = config or Config()
    day = pd.Timestamp(portfolio.data_end if as_of is None else as_of).normalize()
    known_accounts = portfolio.accounts if portfolio.accounts is not None else portfolio.snapshots
    if known_accounts is None:
        raise DataError("the case file needs the 'accounts' table (or 'snapshots')")
    all_ids = pd.Series(pd.unique(known_accounts["account_id"].astype(str)))
    owners = customer_of(all_ids.to_numpy(), portfolio.accounts)
    wanted = pd.unique(owners) if customer_ids is None else [str(c) for c in customer_ids]
    keep = owners.isin(wanted).to_numpy()
    unknown = sorted(set(wanted) - set(owners[keep]))
    if unknown:
        raise DataError(
            f"customer(s) {unknown[:5]} not in the data (table 'accounts', column customer_id)"
        )
    accounts = portfolio.accounts
    if accounts is not None and "origination_date" in accounts:
        holder = customer_of(accounts["account_id"].astype(str).to_numpy(), accounts)
        first = pd.to_datetime(accounts["origination_date"]).groupby(holder.to_numpy()).min()
        later = first.reindex(list(wanted)) > day
        if later.any() and customer_ids is not None:
            c = later[later].index[0]
            raise DataError(
                f"customer {c} had no account on {day.date()}: its first account was opened "
                f"on {pd.Timestamp(first[c]).date()}; choose a later as-of date"
            )
        wanted = [c for c in wanted if not later.get(c, False)]
        keep &= owners.isin(wanted).to_numpy()
    if keep.sum() < len(all_ids):
        portfolio = portfolio.subset(all_ids[keep])
    pit = _known_at(portfolio, day, notes)
    parts = _Parts(pit, day, config, _as_models(models))
    owner = pd.Series(owners[keep].to_numpy(), index=all_ids[keep].to_numpy())
    return parts.cases(list(wanted), owner)


# --------------------------------------------------------------------------- internals
def _as_models(models: Any) -> dict[str, Any]:
    if models is None:
        return {}
    if isinstance(models, Mapping):
        return dict(models)
    return {m.target: m for m in models}


def _known_at(portfolio: Portfolio, day: pd.Timestamp, notes: bool) -> Portfolio:
    """The portfolio as known at the end of ``day``; offers answered later are open."""
    pit = point_in_time(portfolio, day)
    if pit.offers is not None:
        offers = pit.offers[pd.to_datetime(pit.offers["offered_at"]) <= day].copy()
        for when, what in (("outcome_date", "outcome"), ("result_date", "result")):
            if when in offers:
                later = pd.to_datetime(offers[when]) > day
                offers.loc[later, when] = pd.NaT
                if what in offers:
                    offers[what] = offers[what].astype(object).where(~later)
        pit.offers = offers.reset_index(drop=True)
    if pit.actions is not None and not notes:
        drop = [c for c in pit.actions.columns if c.lower() in FREE_TEXT_COLUMNS]
        pit.actions = pit.actions.drop(columns=drop)
    return pit


class _Parts:
    """Everything of the case files computed once for all accounts of ``pit``."""

    def __init__(self, pit: Portfolio, day: pd.Timestamp, config: Config, models: dict):
        self.pit, self.day, self.config = pit, day, config
        events = CaseTimeline(pit, day, config)
        self.ledger = events.ledger
        self.states, self.series, self.timeline = events.states, events.series, events.timeline
        self.missing = [
            f"{what} (table '{table}')"
            for what, table in EVENT_TABLE_PARTS
            if getattr(pit, table) is None
        ]
        self.scores = self._scores(models) if models and self.ledger else None
        self.accounts = self._accounts()

    def _scores(self, models: dict) -> pd.DataFrame | None:
        from recovery.models.scores import score_table
        from recovery.timeline.aging import is_overdue
        from recovery.timeline.features import build_features

        s = self.series
        month_end = s["date"].eq(s["date"] + pd.offsets.MonthEnd(0)) | s["date"].eq(self.day)
        pts = s[month_end & is_overdue(s["status"], s["dpd"], s["balance"], self.config)]
        if not len(pts):
            return None
        pairs = pts[["account_id", "date"]].rename(columns={"date": "as_of"}).drop_duplicates()
        frame = build_features(self.pit, pairs, self.config)
        if not len(frame):
            return None
        scores = score_table(frame, models)
        keep = [c for c in ("account_id", "as_of", "p_pay", "p_cure", "reasons") if c in scores]
        return scores[keep].sort_values(["account_id", "as_of"]).reset_index(drop=True)

    def _accounts(self) -> pd.DataFrame:
        st = self.states.copy()
        acc = self.pit.accounts
        cols = ["account_id", "product", "origination_date", "principal", "has_guarantor"]
        if acc is not None:
            info = acc[[c for c in cols if c in acc]].assign(
                account_id=acc["account_id"].astype(str)
            )
            st = info.merge(st, on="account_id", how="left")
        for col in ("status", "bucket", "dpd", "balance", "amount_overdue", "debt_age_days"):
            if col not in st:
                st[col] = np.nan
        if "charge_off_date" not in st:
            st["charge_off_date"] = pd.NaT
        st["agent_id"] = self._holder(st["account_id"])
        lim = limitation_expiry(self.pit, self.day, self.config).set_index("account_id")
        st["limitation_restart"] = st["account_id"].map(lim["last_restart"])
        st["limitation_expires"] = st["account_id"].map(lim["expires"])
        st["p_pay"] = st["p_cure"] = np.nan
        if self.scores is not None:
            now = self.scores[self.scores["as_of"] == self.day].set_index("account_id")
            for col in ("p_pay", "p_cure"):
                if col in now:
                    st[col] = st["account_id"].map(now[col])
        st["suppressed_by"], st["action"], st["action_reason"] = "", "none", ""
        rec = self._recommend(st)
        if rec is not None:
            rec = rec.set_index("account_id")
            st["suppressed_by"] = st["account_id"].map(rec["suppressed_by"]).fillna("")
            st["action"] = st["account_id"].map(rec["action"]).fillna("none")
            st["action_reason"] = st["account_id"].map(rec["reason"]).fillna("")
        drop = [c for c in ("has_guarantor", "date") if c in st]
        return st.drop(columns=drop).reset_index(drop=True)

    def _holder(self, ids: pd.Series) -> pd.Series:
        spells = self.pit.assignments
        if spells is None or not len(spells):
            return pd.Series(None, index=ids.index, dtype=object)
        end = pd.to_datetime(spells["end_date"])
        open_now = (pd.to_datetime(spells["start_date"]) <= self.day) & (
            end.isna() | (end >= self.day)
        )
        held = (
            spells[open_now]
            .assign(account_id=spells["account_id"].astype(str))
            .sort_values("start_date")
            .drop_duplicates("account_id", keep="last")
            .set_index("account_id")["agent_id"]
        )
        return ids.map(held)

    def _recommend(self, st: pd.DataFrame) -> pd.DataFrame | None:
        """Suppressions (contact caps counted per person) and the policy table's choice."""
        if self.pit.accounts is None or not self.ledger:
            return None
        supp = suppressions(self.pit, self.day, self.config)  # contact caps per person
        state = st[["account_id", "bucket", "status", "balance", "p_pay", "p_cure"]].copy()
        if "has_guarantor" in st:
            state["has_guarantor"] = st["has_guarantor"].to_numpy()
        state = state.dropna(subset=["status"])
        return recommend(state, supp, self.config)

    def allowance(self) -> pd.DataFrame | None:
        """Contacts made and allowed per customer on the day (None without actions)."""
        if not hasattr(self, "_allowance"):
            self._allowance = (
                None
                if self.pit.actions is None
                else contact_allowance(self.pit.actions, self.pit.accounts, self.day, self.config)
            )
        return self._allowance

    # ------------------------------------------------------------------ one customer
    def cases(self, customers: list[str], owner: pd.Series) -> dict[str, CaseFile]:
        """The case file of each customer (each table split once by customer)."""
        pit = self.pit
        spells = (
            pit.assignments.reindex(columns=list(_SPELL_KEYS)).assign(
                account_id=pit.assignments["account_id"].astype(str)
            )
            if pit.assignments is not None
            else pd.DataFrame(columns=list(_SPELL_KEYS))
        )
        tables = {
            "accounts": self.accounts,
            "timeline": self.timeline,
            "series": self.series,
            "spells": spells,
            "scores": self.scores,
            **self._profile_tables(),
        }
        said = self._said(tables.pop("said"), owner)
        last_contact = self._last_contacts(owner)
        split = {name: _by_customer(df, owner) for name, df in tables.items()}
        allowance = self.allowance()
        if allowance is None:
            rooms: dict[str, dict] = {}
        else:
            everyone = contact_allowance(None, None, self.day, self.config, customers=customers)
            rooms = {
                r["customer_id"]: r
                for r in pd.concat([allowance, everyone])
                .drop_duplicates("customer_id")
                .to_dict("records")
            }
        out = {}
        for customer in customers:
            part = {name: get(customer) for name, get in split.items()}
            out[customer] = CaseFile(
                customer_id=customer,
                as_of=self.day,
                source="events" if self.ledger else "monthly",
                accounts=part["accounts"],
                timeline=part["timeline"],
                series=part["series"],
                spells=part["spells"],
                contacts=rooms.get(customer, {}),
                profile={
                    "last_contact": last_contact.get(customer),
                    "reason": said.get(customer, {}).get("reason_code"),
                    "attitude": said.get(customer, {}).get("attitude"),
                    "open_promises": part["promises"],
                    "open_offers": part["offers"],
                },
                scores=part["scores"],
                missing=list(self.missing),
                config=self.config,
            )
        return out

    def _profile_tables(self) -> dict[str, pd.DataFrame | None]:
        """Last stated reason and attitude, open promises and open offers, per account."""
        out: dict[str, pd.DataFrame | None] = {"said": None, "promises": None, "offers": None}
        acts = self.pit.actions
        if acts is not None and len(acts):
            acts = acts.sort_values("ts", kind="stable")
            said = [c for c in ("reason_code", "attitude") if c in acts]
            if said:
                shown = acts[said].astype(object)
                shown = shown.where(shown.notna() & ~shown.isin(["unknown", ""]))
                out["said"] = shown.assign(account_id=acts["account_id"].astype(str), ts=acts["ts"])
            if "promise_date" in acts:
                grace = pd.Timedelta(days=self.config.labels.promise_grace_days)
                open_ = acts[pd.to_datetime(acts["promise_date"]) + grace > self.day]
                out["promises"] = open_.reindex(
                    columns=["account_id", "ts", "agent_id", "promise_amount", "promise_date"]
                ).assign(account_id=open_["account_id"].astype(str))
        offers = self.pit.offers
        if offers is not None and len(offers):
            outcome = (
                offers["outcome"].astype(object)
                if "outcome" in offers
                else pd.Series(None, index=offers.index, dtype=object)
            )
            result = (
                offers["result"].astype(object)
                if "result" in offers
                else pd.Series(None, index=offers.index, dtype=object)
            )
            running = outcome.isna() | (outcome.eq("accepted") & result.isna())
            out["offers"] = offers[running].assign(
                account_id=offers.loc[running, "account_id"].astype(str)
            )
        return out

    @staticmethod
    def _said(said: pd.DataFrame | None, owner: pd.Series) -> dict[str, dict]:
        """The last stated reason and recorded attitude of each customer."""
        if said is None or not len(said):
            return {}
        key = said["account_id"].map(owner).to_numpy()
        cols = [c for c in ("reason_code", "attitude") if c in said]
        last = said.sort_values("ts", kind="stable")[cols].groupby(key).last()
        return {
            c: {k: (None if pd.isna(v) else v) for k, v in row.items()}
            for c, row in last.to_dict("index").items()
        }

    def _last_contacts(self, owner: pd.Series) -> dict[str, dict]:
        """The last contact attempt of each customer (a timeline row as a dict)."""
        tl = self.timeline
        hit = tl[tl["event"].eq("contact") & tl["channel"].isin(CONTACT_CHANNELS)]
        last = hit.groupby(hit["account_id"].map(owner).to_numpy()).tail(1)
        key = last["account_id"].map(owner).to_numpy()
        return dict(zip(key, last.to_dict("records"), strict=True))


def _by_customer(frame: pd.DataFrame | None, owner: pd.Series):
    """A function customer -> that customer's rows of ``frame`` (None stays None)."""
    if frame is None:
        return lambda customer: None
    key = frame["account_id"].astype(str).map(owner).to_numpy()
    groups = pd.Series(np.arange(len(frame))).groupby(key).indices if len(frame) else {}
    empty = frame.iloc[:0].reset_index(drop=True)

    def rows(customer: str) -> pd.DataFrame:
        at = groups.get(customer)
        return empty if at is None else frame.iloc[at].reset_index(drop=True)

    return rows
