"""Offer policies evaluated by re-simulation (issue 23, the simulator's side).

As :mod:`recovery.simulate.policies` does for work lists: a book of the ``offers``
scenario is simulated with a **switch month**. Before it the lender's offer desk runs
as usual — its default rule and its randomised share (:mod:`recovery.simulate.offers`)
— so the pre-switch history is logged, and runs with the same seed share it exactly.
From the switch on, an **offer policy** decides, for every account the desk considers
that month, which offer to make (or none). Every run keeps the same collection
operation and the desk's own choice of whom to consider (its offer-rate draw and
cooldown, from the same random stream): the policies differ only in what they offer,
at equal contact capacity.

The policy interface
--------------------
A policy is a callable ``policy(candidates: pandas.DataFrame) -> pandas.DataFrame``.

``candidates`` has one row per account the desk considers that month:

- ``account_id``; ``decision_date`` (the first day of the month: offers are made then);
- ``desk_kind``: what the default rule would offer (``payment_plan`` at M2–M3,
  ``settlement`` from M4 and after charge-off, ``deferral`` after a hardship claim);
- the offer context of :data:`recovery.operations.offer_rules.CONTEXT_COLUMNS`:
  ``stage``, ``debt_age_days``, ``balance`` (outstanding principal, currency),
  ``installment_amount`` (regular installment in force, currency), ``owed`` (amount
  still due, what a plan spreads; currency), ``payments_before``, ``reages_12_months``,
  ``reages_5_years`` and the flags ``fraud``, ``deceased``, ``in_dispute``,
  ``open_offer`` (False: the desk does not consider blocked accounts);
- the observable features of :func:`recovery.simulate.priority.observable_features`
  (``dpd``, ``amount_overdue``, ``installment``, ``months_since_charge_off``,
  ``paid_last_month``, ``days_since_payment``, ``has_guarantor``, ``has_collateral``,
  ``product``, ``limitation_expired``, ``bureau_score``; no latent trait, no truth).

It returns **one row per candidate account**: ``account_id``, ``kind`` (``none``,
``payment_plan``, ``settlement``, ``deferral``), ``discount_share`` (settlements: share
of the balance forgiven), ``installments`` (plans: monthly installments; the amount
still due is spread over them) and ``deferral_months`` (deferrals: months the unpaid
installments move). Terms a kind does not use are ignored. A policy that draws its
terms at random may add ``assignment_probability`` and ``randomized``: the ``offers``
table records them (else 1 and False).

Every offer made must pass the lender's guardrails
(:func:`recovery.operations.offer_rules.offer_breaches` with ``config.offers``): a
policy's offer that breaks one is refused with a :class:`~recovery.errors.ConfigError`
naming the policy, the account, the rule and the terms — never silently dropped. The
simulator makes plans and deferrals on open accounts only (a charged-off account gets a
settlement); a plan or deferral to a charged-off account is refused the same way.

Built-in policies: :func:`no_offers`; :class:`DeskRule` (the desk's default rule,
without its randomised share); :class:`FixedDiscount` (a settlement at one discount to
every account the guardrails allow it for: the best single fixed discount is the best
of these over the grid); ``"desk"`` (the string) leaves the desk as it is, randomised
share included; ``"oracle"`` offers the truth's best term per account
(:mod:`recovery.simulate.offer_oracle`; a reference for scale, not a lender's policy). :func:`evaluate_offer_policies` runs policies over paired seeds and
:func:`recovery.simulate.policies.compare_policies` gives the paired differences with
their 95 % confidence intervals.

Examples
--------
>>> c = pd.DataFrame({"account_id": ["A1", "A2"], "desk_kind": ["settlement", "deferral"],
...     "stage": ["charged_off", "early"], "debt_age_days": [400.0, 40.0],
...     "balance": [1000.0, 800.0], "installment_amount": [100.0, 100.0],
...     "owed": [1200.0, 900.0], "payments_before": [5, 5]})
>>> FixedDiscount(0.3)(c)[["account_id", "kind", "discount_share"]].values.tolist()
[['A1', 'settlement', 0.3], ['A2', 'none', 0.0]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.errors import ConfigError
from recovery.operations.offer_rules import offer_breaches
from recovery.simulate.offer_oracle import oracle_policy
from recovery.simulate.offers import KINDS, PLAN, OfferParams, desk_terms
from recovery.simulate.operation import CollectionOperation, PlanContext
from recovery.simulate.policies import switch_month
from recovery.simulate.priority import observable_features

__all__ = [
    "DECISION_KINDS",
    "DECISION_COLUMNS",
    "RECORDED_COLUMNS",
    "OfferPolicy",
    "no_offers",
    "DeskRule",
    "FixedDiscount",
    "AtRandomisedOffers",
    "check_decisions",
    "OfferPolicyOperation",
    "OUTCOME_MEASURES",
    "offer_policy_outcomes",
    "evaluate_offer_policies",
]

#: What a policy may decide per account.
DECISION_KINDS = ("none", *KINDS)
#: The columns a policy returns (one row per candidate account).
DECISION_COLUMNS = ("account_id", "kind", "discount_share", "installments", "deferral_months")
#: What a policy may add to a decision, recorded in the ``offers`` table as given (a
#: policy that draws terms at random says with which probability).
RECORDED_COLUMNS = ("assignment_probability", "randomized")
#: What :func:`offer_policy_outcomes` measures in the window after the switch (its keys,
#: ``collected`` left out: the discounted collections are the policy value compared).
OUTCOME_MEASURES = (
    "discounted_collected",
    "offers_made",
    "offers_accepted",
    "payment_cures",
    "reage_cures",
    "write_offs",
    "written_off_balance",
    "settled",
)
#: A policy: candidates in, one decision per candidate out (see the module notes).
OfferPolicy = Callable[[pd.DataFrame], pd.DataFrame]
_TERMS = {"discount_share": 0.0, "installments": 0, "deferral_months": 0}


def _decisions(candidates: pd.DataFrame, kind: Any, **terms: Any) -> pd.DataFrame:
    out = pd.DataFrame({"account_id": candidates["account_id"].to_numpy(), "kind": kind})
    for name, fill in _TERMS.items():
        out[name] = terms.get(name, fill)
    return out


def no_offers(candidates: pd.DataFrame) -> pd.DataFrame:
    """No offer to anyone (collect as usual).

    Examples
    --------
    >>> no_offers(pd.DataFrame({"account_id": ["A1"]}))["kind"].tolist()
    ['none']
    """
    return _decisions(candidates, "none")


class DeskRule:
    """The desk's default rule (:func:`recovery.simulate.offers.desk_terms`): a deferral
    after a hardship claim, the shortest affordable plan at M2–M3, a settlement at the
    discount of ``default_discount`` from M4 on — without the randomised share.

    Parameters
    ----------
    params : OfferParams, optional
    config : Config, optional
        ``config.offers.max_installment_ratio`` caps the plan installment.
    """

    def __init__(self, params: OfferParams | None = None, config: Config | None = None):
        self.params = params or OfferParams()
        self.config = config or Config()

    def __call__(self, candidates: pd.DataFrame) -> pd.DataFrame:
        kind = pd.Index(KINDS).get_indexer(candidates["desk_kind"])
        discount, installments, months = desk_terms(
            self.params,
            kind,
            candidates["stage"].to_numpy(object),
            candidates["debt_age_days"].fillna(0).to_numpy(float),
            candidates["owed"].to_numpy(float),
            candidates["installment_amount"].to_numpy(float),
            self.config.offers.max_installment_ratio,
        )
        names = np.asarray(KINDS, dtype=object)[kind]
        names = np.where((kind == PLAN) & (installments < 1), "none", names)  # none affordable
        out = _decisions(
            candidates,
            names,
            discount_share=discount,
            installments=installments,
            deferral_months=months,
        )
        return _allowed_only(candidates, out, self.config)


class FixedDiscount:
    """A settlement at one ``discount`` to every candidate the guardrails allow it for
    (others: no offer).

    Parameters
    ----------
    discount : float
        Share of the balance forgiven.
    config : Config, optional
    """

    def __init__(self, discount: float, config: Config | None = None):
        if not 0 <= discount < 1:
            raise ConfigError(f"FixedDiscount: discount must be in [0, 1), got {discount}")
        self.discount = float(discount)
        self.config = config or Config()

    def __call__(self, candidates: pd.DataFrame) -> pd.DataFrame:
        out = _decisions(candidates, "settlement", discount_share=self.discount)
        return _allowed_only(candidates, out, self.config)


class AtRandomisedOffers:
    """The desk as usual, except at each randomised account's first randomised offer,
    where ``policy`` decides: the re-simulation counterpart of an offer history's
    inverse-propensity value (:mod:`recovery.operations.offer_policy_value`).

    An offer history with random terms identifies, for each offer made at random terms,
    what the account would have paid over the H months after it had a policy chosen the
    terms — the policy *at that offer*, the lender's usual work afterwards. This policy
    re-simulates exactly that. Accounts outside ``randomized`` get the desk's rule
    (:class:`DeskRule`), and so do hardship deferrals. An account of ``randomized`` gets,
    at its first offer from the switch on whose terms the desk would draw at random (a
    plan or a settlement with at least one term the guardrails allow), the ``policy``'s
    decision (which may be no offer); at its later ones, terms drawn uniformly among the
    allowed ones of the grid, as the desk draws them. The draws are the policy's own, one
    per account and month from ``seed``, so that two runs of the same seed differ only
    where the first offers differ. ``policy=None`` draws the first offer's terms too: the
    logging run, whose ``offers`` table records the draws' ``assignment_probability`` and
    ``randomized``.

    Parameters
    ----------
    policy : callable or None
        An :data:`OfferPolicy`, or None (the desk's draw).
    randomized : iterable of str
        Accounts of the desk's randomised share (e.g. those with a ``randomized``
        offer in a run of the same seed).
    params : OfferParams, optional
        The desk's rule and grids (default: :class:`~recovery.simulate.offers.OfferParams`).
    config : Config, optional
    seed : int

    Attributes
    ----------
    events_ : pandas.DataFrame
        The first offers: ``decision_date``, the decision (:data:`DECISION_COLUMNS`) and
        ``assignment_probability``, in the order made.

    Examples
    --------
    >>> c = pd.DataFrame({"account_id": ["A1", "A2"], "desk_kind": ["settlement"] * 2,
    ...     "decision_date": pd.Timestamp("2024-01-01"), "stage": ["charged_off"] * 2,
    ...     "debt_age_days": [400.0, 400.0], "balance": [1000.0, 1000.0],
    ...     "installment_amount": [100.0, 100.0], "owed": [1200.0, 1200.0],
    ...     "payments_before": [5, 5]})
    >>> p = AtRandomisedOffers(no_offers, randomized=["A2"])
    >>> p(c)["kind"].tolist(), p.events_["account_id"].tolist()
    (['settlement', 'none'], ['A2'])
    """

    def __init__(
        self,
        policy: OfferPolicy | None,
        randomized: Any,
        params: OfferParams | None = None,
        config: Config | None = None,
        seed: int = 0,
    ) -> None:
        self.policy = policy
        self.randomized = {str(a) for a in randomized}
        self.params = params or OfferParams()
        self.config = config or Config()
        self.seed = int(seed)
        self.desk = DeskRule(self.params, self.config)
        self._seen: set[str] = set()
        self._events: list[pd.DataFrame] = []
        inner = "desk" if policy is None else getattr(policy, "__name__", type(policy).__name__)
        self.__name__ = f"at_randomised({inner})"

    @property
    def events_(self) -> pd.DataFrame:
        columns = ["decision_date", *DECISION_COLUMNS, "assignment_probability"]
        if not self._events:
            return pd.DataFrame(columns=columns)
        return pd.concat(self._events, ignore_index=True)[columns]

    def allowed_terms(self, candidates: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The grid of each candidate's desk kind (discounts or plan lengths; NaN off the
        grid) and which of its terms the guardrails allow (as the desk checks them)."""
        p = self.params
        width = max(len(p.discount_grid), len(p.plan_grid))
        kind = candidates["desk_kind"].to_numpy(object)
        d = np.full(width, np.nan)
        d[: len(p.discount_grid)] = p.discount_grid
        plan_len = np.full(width, np.nan)
        plan_len[: len(p.plan_grid)] = p.plan_grid
        grid = np.where(
            (kind == "payment_plan")[:, None],
            plan_len[None, :],
            np.where((kind == "settlement")[:, None], d[None, :], np.nan),
        )
        rep = candidates.loc[candidates.index.repeat(width)].reset_index(drop=True)
        flat = grid.reshape(-1)
        k = np.repeat(kind, width)
        term = pd.DataFrame(
            {
                "account_id": rep["account_id"].to_numpy(),
                "kind": np.where(np.isnan(flat), "none", k),
                "discount_share": np.where(k == "settlement", np.nan_to_num(flat), 0.0),
                "installments": np.where(k == "payment_plan", np.nan_to_num(flat), 0),
                "deferral_months": 0,
            }
        )
        ok = ~offer_breaches(_with_terms(rep, term), self.config).to_numpy().any(axis=1)
        return grid, (ok & ~np.isnan(flat)).reshape(len(candidates), width)

    def draws(self, ids: np.ndarray, dates: Any) -> np.ndarray:
        """Uniform draws in [0, 1), one per account and month (from ``seed``)."""
        month = pd.to_datetime(pd.Series(dates)).dt.strftime("%Y-%m").to_numpy(str)
        key = pd.Series(np.char.add(np.asarray(ids, str), month))
        h = pd.util.hash_pandas_object(key, index=False, hash_key=f"{self.seed % 10**16:016d}")
        return (h.to_numpy(np.uint64) >> np.uint64(11)).astype(float) / float(1 << 53)

    def __call__(self, candidates: pd.DataFrame) -> pd.DataFrame:
        candidates = candidates.reset_index(drop=True)
        out = self.desk(candidates).reset_index(drop=True)
        out["assignment_probability"] = 1.0
        out["randomized"] = False
        if not len(candidates):
            return out
        ids = candidates["account_id"].astype(str).to_numpy()
        grid, allowed = self.allowed_terms(candidates)
        count = allowed.sum(axis=1)
        kind = candidates["desk_kind"].to_numpy(object)
        drawn = np.isin(ids, list(self.randomized)) & (kind != "deferral") & (count > 0)
        first = drawn & ~np.isin(ids, list(self._seen))
        random = np.flatnonzero(drawn & ~first if self.policy is not None else drawn)
        if len(random):  # the desk's draw: uniform among the allowed terms
            u = self.draws(ids[random], candidates["decision_date"].to_numpy()[random])
            choice = np.minimum((u * count[random]).astype(int), count[random] - 1)
            col = np.argmax(np.cumsum(allowed[random], axis=1) > choice[:, None], axis=1)
            chosen = grid[random, col]
            plan = kind[random] == "payment_plan"
            out.loc[random, "kind"] = kind[random]
            out.loc[random, "discount_share"] = np.where(plan, 0.0, chosen)
            out.loc[random, "installments"] = np.where(plan, chosen, 1).astype(int)
            out.loc[random, "deferral_months"] = 0
            out.loc[random, "assignment_probability"] = 1.0 / count[random]
            out.loc[random, "randomized"] = True
        rows = np.flatnonzero(first)
        if len(rows):
            given = candidates.iloc[rows].reset_index(drop=True)
            if self.policy is not None:
                decided = check_decisions(
                    given, self.policy(given.copy()), self.config, self.__name__
                )
                for col in DECISION_COLUMNS[1:]:
                    out.loc[rows, col] = decided[col].to_numpy()
            made = out.iloc[rows].reset_index(drop=True)
            self._events.append(made.assign(decision_date=given["decision_date"].to_numpy()))
            self._seen.update(ids[rows])
        return out


def _with_terms(candidates: pd.DataFrame, decisions: pd.DataFrame) -> pd.DataFrame:
    """Candidates with the decided terms as offer_breaches reads them."""
    frame = candidates.reset_index(drop=True).copy()
    kind = decisions["kind"].to_numpy(object)
    frame["kind"] = kind
    discount = pd.to_numeric(decisions["discount_share"], errors="coerce").fillna(0.0).to_numpy()
    installments = pd.to_numeric(decisions["installments"], errors="coerce").fillna(0).to_numpy()
    months = pd.to_numeric(decisions["deferral_months"], errors="coerce").fillna(0).to_numpy()
    settle, plan, defer = kind == "settlement", kind == "payment_plan", kind == "deferral"
    frame["discount_share"] = np.where(settle, discount, 0.0)
    frame["installments"] = np.where(plan, installments, np.where(settle, 1, np.nan))
    frame["deferral_months"] = np.where(defer, months, np.nan)
    owed = frame["owed"].to_numpy(float) if "owed" in frame else np.full(len(frame), np.nan)
    frame["plan_amount"] = np.where(
        plan, owed, np.where(settle, (1 - discount) * frame["balance"].to_numpy(float), np.nan)
    )
    return frame


def _allowed_only(candidates, decisions: pd.DataFrame, config: Config) -> pd.DataFrame:
    """Decisions with the offers the guardrails (or the simulator) refuse set to none."""
    frame = _with_terms(candidates, decisions)
    made = frame["kind"].to_numpy(object) != "none"
    bad = offer_breaches(frame[made], config).to_numpy().any(axis=1)
    refused = np.zeros(len(frame), bool)
    refused[np.flatnonzero(made)[bad]] = True
    refused |= _simulator_refuses(frame)
    out = decisions.copy()
    out.loc[refused, "kind"] = "none"
    for name, fill in _TERMS.items():
        out.loc[refused, name] = fill
    return out


def _simulator_refuses(frame: pd.DataFrame) -> np.ndarray:
    """Plans and deferrals of charged-off accounts; plans and deferrals without a term."""
    kind = frame["kind"].to_numpy(object)
    changes = np.isin(kind, ("payment_plan", "deferral"))
    charged_off = frame["stage"].to_numpy(object) == "charged_off"
    no_term = ((kind == "payment_plan") & ~(frame["installments"].fillna(0) >= 1).to_numpy()) | (
        (kind == "deferral") & ~(frame["deferral_months"].fillna(0) >= 1).to_numpy()
    )
    return (changes & charged_off) | no_term


def check_decisions(
    candidates: pd.DataFrame, decisions: Any, config: Config | None = None, name: str = "policy"
) -> pd.DataFrame:
    """A policy's decisions, checked and aligned with ``candidates``.

    Parameters
    ----------
    candidates : pandas.DataFrame
        What the policy was given.
    decisions : pandas.DataFrame
        What it returned (see the module notes).
    config : Config, optional
        The lender's guardrails (``config.offers``).
    name : str
        The policy's name, for the error message.

    Returns
    -------
    pandas.DataFrame
        :data:`DECISION_COLUMNS` (and those of :data:`RECORDED_COLUMNS` the policy
        gave), one row per candidate in the candidates' order.

    Raises
    ------
    ConfigError
        Not a frame, a column missing, not one row per candidate, an unknown kind, a
        term out of range, or an offer that breaks a guardrail (the account, the rule
        and the terms of up to five offers are named).

    Examples
    --------
    >>> c = pd.DataFrame({"account_id": ["A1"], "stage": ["late"], "debt_age_days": [150.0],
    ...     "balance": [900.0], "installment_amount": [100.0], "owed": [950.0],
    ...     "payments_before": [4]})
    >>> d = pd.DataFrame({"account_id": ["A1"], "kind": ["settlement"], "discount_share": [0.95],
    ...     "installments": [1], "deferral_months": [0]})
    >>> check_decisions(c, d)
    Traceback (most recent call last):
    ...
    recovery.errors.ConfigError: offer policy 'policy' made 1 offer(s) the lender's rules refuse: account A1: settlement discount 0.95 breaks discount_too_deep
    """
    config = config or Config()
    where = f"offer policy {name!r}"
    if not isinstance(decisions, pd.DataFrame):
        raise ConfigError(f"{where} must return a pandas DataFrame, got {type(decisions).__name__}")
    missing = [c for c in ("account_id", "kind") if c not in decisions]
    if missing:
        raise ConfigError(f"{where}: columns {missing} missing (needs {list(DECISION_COLUMNS)})")
    decisions = decisions.copy()
    for col, fill in _TERMS.items():
        if col not in decisions:
            decisions[col] = fill
    ids = candidates["account_id"].to_numpy(object)
    if decisions["account_id"].duplicated().any() or set(decisions["account_id"]) != set(ids):
        extra = sorted(set(decisions["account_id"]) ^ set(ids))[:5]
        raise ConfigError(
            f"{where} must return one row per candidate account (e.g. {extra}, or a duplicate)"
        )
    decisions = decisions.set_index("account_id").loc[ids].reset_index()
    kind = decisions["kind"].astype(object).fillna("none")
    unknown = sorted(set(kind) - set(DECISION_KINDS))
    if unknown:
        raise ConfigError(f"{where}: kind {unknown} unknown; one of {list(DECISION_KINDS)}")
    decisions["kind"] = kind
    frame = _with_terms(candidates, decisions)
    made = (kind != "none").to_numpy()
    discount = frame["discount_share"].to_numpy(float)
    breaches = offer_breaches(frame, config)
    bad = pd.DataFrame(breaches.to_numpy() & made[:, None], columns=breaches.columns)
    bad["discount_out_of_range"] = made & ((discount < 0) | (discount >= 1))
    bad["plan_or_deferral_not_possible_here"] = made & _simulator_refuses(frame)
    rows = np.flatnonzero(bad.to_numpy().any(axis=1))
    if len(rows):
        parts = []
        for r in rows[:5]:
            rules = ", ".join(bad.columns[bad.iloc[r].to_numpy()])
            k = kind.iloc[r]
            term = {
                "settlement": f"discount {discount[r]:g}",
                "payment_plan": f"{frame['installments'].iloc[r]:g} installments",
                "deferral": f"{frame['deferral_months'].iloc[r]:g} months",
            }[k]
            parts.append(f"account {ids[r]}: {k} {term} breaks {rules}")
        raise ConfigError(
            f"{where} made {len(rows)} offer(s) the lender's rules refuse: " + "; ".join(parts)
        )
    logged = [c for c in RECORDED_COLUMNS if c in decisions]  # kept for the offers table
    return decisions[list(DECISION_COLUMNS) + logged]


class OfferPolicyOperation(CollectionOperation):
    """The default collection operation whose offers, from a switch month on, are an
    offer policy's (the hook :meth:`choose_offers` of the offer desk).

    Parameters
    ----------
    policy : callable, "desk" or "oracle"
        An :data:`OfferPolicy`; ``"desk"`` (the desk's own rule and randomised share
        throughout); or ``"oracle"`` (the truth's best offer per account,
        :mod:`recovery.simulate.offer_oracle`: a reference, not a lender's policy).
    switch : date or int, optional
        First month of the policy (a date in it, or a month index); default: 24 months
        before the data end (a plan's value needs time to show).
    name : str, optional
        The policy's name in errors (default: its ``__name__`` or class name).
    params, **overrides
        Of :class:`~recovery.simulate.operation.CollectionOperation`.

    Attributes
    ----------
    switch_month_ : int
        Month index of the switch.
    decisions_ : int
        Offers the policy decided to make (after the switch).

    Examples
    --------
    >>> from recovery.simulate import simulate_portfolio
    >>> op = OfferPolicyOperation(no_offers, switch=30)
    >>> p, _ = simulate_portfolio(n_accounts=300, months=36, seed=1, scenario="offers",
    ...                           operation=op)
    >>> bool((p.offers["offered_at"] < pd.Timestamp(op.month_starts_[30])).all())
    True
    """

    def __init__(
        self,
        policy: OfferPolicy | str,
        switch: Any = None,
        name: str | None = None,
        params: Any = None,
        **overrides: Any,
    ) -> None:
        if not callable(policy) and policy not in ("desk", "oracle"):
            raise ConfigError(
                "policy must be a callable (candidates -> decisions), 'desk' or 'oracle'"
            )
        super().__init__(params, **overrides)
        self.oracle = policy == "oracle"
        policy = oracle_policy if self.oracle else policy
        self.policy = policy
        self.switch = switch
        self.name = name or getattr(policy, "__name__", type(policy).__name__)

    def start(self, book) -> None:  # noqa: D102 - see CollectionOperation.start
        super().start(book)
        self.month_starts_ = pd.DatetimeIndex(book.month_starts)
        self.switch_month_ = switch_month(book, self.switch, 24)
        self.decisions_ = 0
        self._bureau: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def start_chunk(self, chunk_index: int, accounts: pd.DataFrame) -> None:  # noqa: D102
        super().start_chunk(chunk_index, accounts)
        index = accounts["account_index"].to_numpy(np.int64)
        bureau = (
            accounts["bureau_score"].to_numpy(float)
            if "bureau_score" in accounts
            else np.full(len(index), np.nan)
        )
        order = np.argsort(index)
        self._bureau[chunk_index] = (index[order], bureau[order])

    def wants_truth(self, month_index: int) -> bool:
        """The oracle reads the truth's values of the month's candidates (after the switch)."""
        return self.oracle and month_index >= self.switch_month_

    def choose_offers(self, state, candidates: pd.DataFrame) -> pd.DataFrame | None:
        """The month's offers: None before the switch (the desk decides), else the
        policy's, checked (:func:`check_decisions`), as ``OperationResponse.offers``
        rows."""
        if self.policy == "desk" or state.month_index < self.switch_month_:
            return None
        rows = candidates["row"].to_numpy(np.int64)
        if not len(rows):
            return pd.DataFrame({"row": rows, "kind": []})
        index, bureau = self._bureau[state.chunk_index]
        at = np.searchsorted(index, np.asarray(state.account_index)[rows])
        none = np.zeros(len(rows), np.int64)
        context = PlanContext(state, rows, *(none for _ in range(7)))
        features = observable_features(context, bureau[at]).drop(columns=["account_index", "group"])
        features = features.drop(columns=[c for c in features if c in candidates])
        given = pd.concat(
            [candidates.drop(columns=["row"]).reset_index(drop=True), features], axis=1
        )
        decided = check_decisions(given, self.policy(given.copy()), self.config, self.name)
        made = decided["kind"].to_numpy(object) != "none"
        self.decisions_ += int(made.sum())
        out = decided[made].drop(columns=["account_id"]).reset_index(drop=True)
        out.insert(0, "row", rows[made])
        return out


def offer_policy_outcomes(
    portfolio: Any, truth: Any, start: Any, config: Config | None = None
) -> dict[str, float]:
    """What a policy achieved from ``start`` (its switch month) to the data end.

    Parameters
    ----------
    portfolio, truth
        A simulated book of the ``offers`` scenario and its truth.
    start : date
        First day of the window.
    config : Config, optional
        ``config.offers.monthly_discount_rate`` discounts the collections.

    Returns
    -------
    dict
        ``discounted_collected`` (non-reversed payments, each discounted by the months
        since the window's first month; currency), ``collected`` (undiscounted),
        ``offers_made``, ``offers_accepted``, ``payment_cures`` and ``reage_cures``
        (month ends where a delinquent open account is back at 0 DPD, through payments
        or through a new schedule version), ``write_offs`` (accounts charged off) and
        ``written_off_balance`` (their balance at the month end before, currency),
        ``settled`` (accounts closed by a settlement).
    """
    config = config or Config()
    start = pd.Timestamp(start).normalize()
    end = pd.Timestamp(portfolio.data_end)
    rate = config.offers.monthly_discount_rate
    pay = portfolio.payments
    good = pay["reversed_date"].isna() | (pay["reversed_date"] > end)
    inside = good & (pay["payment_date"] >= start) & (pay["payment_date"] <= end)
    pay = pay[inside]
    k = (pay["payment_date"].dt.year - start.year) * 12 + pay["payment_date"].dt.month - start.month
    offers = portfolio.offers
    offers = offers[offers["offered_at"] >= start] if offers is not None else offers
    months = truth.account_months[["account_id", "month_end", "status", "dpd", "balance"]]
    version = truth.account_months["schedule_version"]
    months = months.assign(version=version).sort_values(["account_id", "month_end"])
    same = months["account_id"].eq(months["account_id"].shift())
    before = months.shift().where(same)
    now_in = (months["month_end"] >= start) & (months["month_end"] <= end) & same
    was_late = (before["status"] == "open") & (before["dpd"] > 0)
    cured = now_in & was_late & (months["status"] == "open") & (months["dpd"] == 0)
    reaged = months["version"] > before["version"]
    charged = now_in & (before["status"] == "open") & (months["status"] == "charged_off")
    settled = now_in & (months["status"] == "settled") & (before["status"] != "settled")
    return {
        "discounted_collected": float((pay["amount"] / (1 + rate) ** k).sum()),
        "collected": float(pay["amount"].sum()),
        "offers_made": int(0 if offers is None else len(offers)),
        "offers_accepted": int(0 if offers is None else (offers["outcome"] == "accepted").sum()),
        "payment_cures": int((cured & ~reaged).sum()),
        "reage_cures": int((cured & reaged).sum()),
        "write_offs": int(charged.sum()),
        "written_off_balance": float(before.loc[charged, "balance"].sum()),
        "settled": int(settled.sum()),
    }


def _fingerprint(frame: pd.DataFrame) -> int:
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy(np.uint64)
    return int((hashes % np.uint64(1 << 61)).astype(object).sum())


def evaluate_offer_policies(
    policies: dict[str, OfferPolicy | str] | None = None,
    n_accounts: int = 3000,
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4),
    months: int = 84,
    start: str = "2019-01-01",
    scenario: str = "offers",
    config: Config | None = None,
    switch: Any = None,
    offers: OfferParams | None = None,
    progress: Any = None,
    keep: dict | None = None,
) -> pd.DataFrame:
    """Run offer policies over paired seeds (same seed: same pre-switch history).

    Parameters
    ----------
    policies : dict of name -> policy, optional
        Default: ``none`` (:func:`no_offers`), ``desk`` (the desk's rule and randomised
        share) and ``desk_rule`` (:class:`DeskRule`).
    n_accounts, seeds, months, start, scenario, config, offers
        Passed to :func:`recovery.simulate.simulate_portfolio` (``offers``: the desk's
        parameters; default the scenario's).
    switch : date or int, optional
        First month of the policies (default: 24 months before the data end).
    progress : callable, optional
        Called with a message after each run.
    keep : dict, optional
        Filled with ``(seed, name) -> (portfolio, truth)``.

    Returns
    -------
    pandas.DataFrame
        One row per seed × policy: ``seed``, ``policy``, ``switch_date``, the measures of
        :func:`offer_policy_outcomes`, ``pre_switch_offers`` and
        ``pre_switch_fingerprint`` (equal across a seed's policies: the shared
        history). :func:`recovery.simulate.policies.compare_policies` gives the paired
        differences (e.g. ``baseline="none"``).

    Examples
    --------
    >>> r = evaluate_offer_policies({"none": no_offers, "desk": "desk"}, n_accounts=300,
    ...                             seeds=(0,), months=36, switch=24)
    >>> r["policy"].tolist(), int(r["pre_switch_fingerprint"].nunique())
    (['none', 'desk'], 1)
    """
    from recovery.simulate import simulate_portfolio

    config = config or Config()
    policies = policies or {"none": no_offers, "desk": "desk", "desk_rule": DeskRule(offers)}
    rows = []
    for seed in seeds:
        for name, policy in policies.items():
            op = OfferPolicyOperation(policy, switch=switch, name=name)
            portfolio, truth = simulate_portfolio(
                config=config,
                n_accounts=n_accounts,
                start=start,
                months=months,
                seed=seed,
                scenario=scenario,
                operation=op,
                offers=offers,
            )
            switch_date = op.month_starts_[op.switch_month_]
            pre = portfolio.offers
            pre = pre[pre["offered_at"] < switch_date] if pre is not None else pre
            pay = portfolio.payments[portfolio.payments["payment_date"] < switch_date]
            fingerprint = _fingerprint(pay[["account_id", "payment_date", "amount"]])
            if pre is not None:
                fingerprint += _fingerprint(pre[["offer_id", "kind", "outcome"]])
            rows.append(
                {
                    "seed": seed,
                    "policy": name,
                    "switch_date": switch_date,
                    **offer_policy_outcomes(portfolio, truth, switch_date, config),
                    "pre_switch_offers": int(0 if pre is None else len(pre)),
                    "pre_switch_fingerprint": fingerprint % (1 << 61),
                }
            )
            if keep is not None:
                keep[(seed, name)] = (portfolio, truth)
            if progress:
                progress(f"seed {seed}: {name}")
    return pd.DataFrame(rows)
