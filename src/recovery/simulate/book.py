"""The loan book: originations, application data, borrower traits and schedules.

Accounts are generated in *blocks* of :data:`BLOCK_SIZE` consecutive accounts, each
block with its own random stream derived from the seed
(``SeedSequence(seed, spawn_key=(block,))``). A chunk is a whole number of blocks,
so the generated book does not depend on the chunk size.

Examples
--------
>>> from recovery.simulate.book import Calendar
>>> cal = Calendar.build("2019-01-01", months=12, back_book_months=2, follow_up_months=1)
>>> cal.n_months, str(cal.month_start(0).date()), cal.observed_months
(15, '2018-11-01', 14)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

from recovery.simulate.params import SimulationParams

__all__ = ["BLOCK_SIZE", "CUSTOMER_STREAM", "Calendar", "amortize", "customer_leads"]

BLOCK_SIZE = 1000
#: Random stream of the grouping of accounts into customers (independent of the others,
#: so a book without multi-loan customers is drawn exactly as before).
CUSTOMER_STREAM = 24
_EPOCH = np.datetime64("1970-01-01", "D")


@dataclass(frozen=True)
class Calendar:
    """Simulated months: month ``m`` starts on day ``starts[m]`` (days since 1970-01-01).

    Months ``0 … back_book_months-1`` precede ``start`` (back-book history);
    ``observed_months`` months are written to the tables; the rest is hidden
    follow-up used only by the truth.
    """

    starts: np.ndarray  # int64 days since epoch, length n_months + 3 (look-ahead)
    n_months: int
    observed_months: int
    back_book_months: int

    @classmethod
    def build(
        cls, start: str, months: int, back_book_months: int, follow_up_months: int
    ) -> Calendar:
        first = pd.Timestamp(start).to_period("M") - back_book_months
        n = back_book_months + months + follow_up_months
        periods = pd.period_range(first, periods=n + 3, freq="M")
        starts = (periods.to_timestamp().values.astype("datetime64[D]") - _EPOCH).astype(np.int64)
        return cls(starts, n, back_book_months + months, back_book_months)

    def month_start(self, m: int) -> pd.Timestamp:
        return pd.Timestamp(_EPOCH + np.timedelta64(int(self.starts[m]), "D"))

    def month_end_day(self, m) -> np.ndarray:
        """Last day (days since epoch) of month(s) ``m``."""
        return self.starts[np.asarray(m) + 1] - 1

    def month_end(self, m: int) -> pd.Timestamp:
        return pd.Timestamp(_EPOCH + np.timedelta64(int(self.starts[m + 1] - 1), "D"))

    @property
    def data_end(self) -> pd.Timestamp:
        return self.month_end(self.observed_months - 1)


class BlockStreams:
    """Random draws for a chunk, made block by block so they do not depend on chunking."""

    def __init__(self, seed: int, first_block: int, sizes: list[int], stream: int = 0):
        self.gens = [
            np.random.Generator(
                np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(stream, first_block + b)))
            )
            for b in range(len(sizes))
        ]
        self.sizes = sizes

    def uniform(self, k: int) -> np.ndarray:
        """An (n_accounts, k) matrix of uniforms on [0, 1)."""
        return np.concatenate(
            [g.random((s, k)) for g, s in zip(self.gens, self.sizes, strict=False)]
        )

    def normal(self, k: int) -> np.ndarray:
        """An (n_accounts, k) matrix of standard normals."""
        return np.concatenate(
            [g.standard_normal((s, k)) for g, s in zip(self.gens, self.sizes, strict=False)]
        )


@dataclass
class Book:
    """Static data of a chunk of accounts (arrays aligned by position)."""

    index: np.ndarray  # global account index
    orig_month: np.ndarray  # month index of origination
    due_day: np.ndarray  # 3..28
    term: np.ndarray
    product: np.ndarray  # 0 consumer, 1 small business
    principal_c: np.ndarray  # cents
    rate: np.ndarray  # annual
    has_guarantor: np.ndarray
    has_collateral: np.ndarray
    region: np.ndarray
    income_band: np.ndarray
    employment: np.ndarray
    bureau_score: np.ndarray
    age_band: np.ndarray
    gender: np.ndarray
    archetype: np.ndarray
    ability: np.ndarray
    willingness: np.ndarray
    fraud: np.ndarray
    partial_share: np.ndarray
    recovery_share: np.ndarray
    settlement_share: np.ndarray
    promise_keep: np.ndarray
    reachability: np.ndarray
    contact_response: np.ndarray
    cum_due: np.ndarray  # (n, width) cents of version 1, col 0 = 0, BIG beyond term
    cum_principal: np.ndarray  # (n, width) cents
    lead: np.ndarray  # position of the customer's first account (itself for one loan)

    def __len__(self) -> int:
        return len(self.index)


BIG = np.int64(1) << 52


def amortize(principal_c: np.ndarray, rate: np.ndarray, term: np.ndarray, width: int):
    """Annuity schedules in cents: (cum_due, cum_principal, installment) matrices.

    The regular installment is rounded up to the cent; the last installment takes the
    remaining principal and is never larger than the regular one.

    Examples
    --------
    >>> cd, cp, a = amortize(np.array([120000]), np.array([0.0]), np.array([12]), 13)
    >>> int(a[0]), int(cd[0, 12]), int(cp[0, 12])
    (10000, 120000, 120000)
    """
    n = len(principal_c)
    r = rate / 12.0
    with np.errstate(divide="ignore", invalid="ignore"):
        annuity = np.where(
            r > 0,
            principal_c * r / (1.0 - (1.0 + r) ** (-term.astype(float))),
            principal_c / term,
        )
    inst = np.ceil(annuity - 1e-9).astype(np.int64)
    cum_due = np.full((n, width), BIG, dtype=np.int64)
    cum_prin = np.repeat(principal_c.astype(np.int64)[:, None], width, axis=1)
    cum_due[:, 0] = 0
    cum_prin[:, 0] = 0
    bal = principal_c.astype(np.int64).copy()
    due_acc = np.zeros(n, np.int64)
    prin_acc = np.zeros(n, np.int64)
    for k in range(1, int(term.max()) + 1 if n else 1):
        live = k <= term
        interest = np.rint(bal * r).astype(np.int64)
        prin = np.minimum(inst - interest, bal)
        last = k == term
        prin = np.where(last, bal, prin)
        amount = np.where(last, np.minimum(bal + interest, inst), prin + interest)
        amount = np.maximum(amount, prin)
        due_acc = np.where(live, due_acc + amount, due_acc)
        prin_acc = np.where(live, prin_acc + prin, prin_acc)
        bal = np.where(live, bal - prin, bal)
        cum_due[live, k] = due_acc[live]
        cum_prin[live, k] = prin_acc[live]
    return cum_due, cum_prin, inst


def customer_leads(params: SimulationParams, seed: int, first_block: int, sizes: list[int]):
    """Group a chunk's accounts into customers: each account's customer's first account.

    Customers are formed within a block, from consecutive accounts: a customer has
    several loans with probability ``multi_loan_share`` (three of them with probability
    ``three_loan_share``, else two; the block's last customer may be cut short). The
    draws come from their own stream, so the other draws do not move.

    Parameters
    ----------
    params : SimulationParams
    seed, first_block : int
    sizes : list of int
        Accounts per block of the chunk.

    Returns
    -------
    numpy.ndarray
        Position (in the chunk) of the lead account of each account's customer; the
        account itself for a customer with one loan.

    Examples
    --------
    >>> from recovery.simulate.params import get_scenario
    >>> lead = customer_leads(get_scenario("customers"), 0, 0, [1000])
    >>> sizes = np.bincount(lead)[np.unique(lead)]
    >>> int(sizes.max()), bool(0.12 < (sizes > 1).mean() < 0.28)
    (3, True)
    """
    out, offset = [], 0
    for b, size in enumerate(sizes):
        if params.multi_loan_share <= 0:
            out.append(np.arange(offset, offset + size))
        else:
            seq = np.random.SeedSequence(seed, spawn_key=(CUSTOMER_STREAM, first_block + b))
            u = np.random.Generator(np.random.PCG64(seq)).random((size, 2))
            several = u[:, 0] < params.multi_loan_share
            loans = 1 + several * (1 + (u[:, 1] < params.three_loan_share))
            ends = np.cumsum(loans)
            starts = ends - loans
            customer = np.searchsorted(ends, np.arange(size), side="right")
            out.append(offset + starts[customer])
        offset += size
    return np.concatenate(out).astype(np.int64) if out else np.zeros(0, np.int64)


def _choice(u: np.ndarray, weights) -> np.ndarray:
    w = np.asarray(weights, float)
    return np.searchsorted(np.cumsum(w / w.sum()), u, side="right").clip(0, len(w) - 1)


def make_book(
    params: SimulationParams,
    cal: Calendar,
    streams: BlockStreams,
    index: np.ndarray,
    width: int,
    lead: np.ndarray | None = None,
) -> Book:
    """Draw a chunk's accounts, borrowers and version-1 schedules.

    ``lead`` (from :func:`customer_leads`) makes the loans of one customer share the
    borrower: archetype, ability, willingness, fraud, application data (bureau,
    income, employment, age, gender, region) and personal habits (partial, recovery
    and settlement shares) come from the customer's first account; product,
    origination month, amount, term and security are each loan's own.
    """
    p = params
    u = streams.uniform(24)
    z = streams.normal(6)
    lead = np.arange(len(index)) if lead is None else np.asarray(lead, np.int64)
    members = np.flatnonzero(lead != np.arange(len(index)))
    if len(members):
        person_u = [4, 5, 7, 8, 9, 14, 15, 16]  # archetype, fraud, age, gender, region, habits
        u[np.ix_(members, person_u)] = u[np.ix_(lead[members], person_u)]
        # ability, willingness, bureau noise, income and employment latents
        z[members, :5] = z[lead[members], :5]
    # origination month: back book uniform before start, vintages growing after
    bb = u[:, 0] < p.back_book_share
    n_new = cal.observed_months - cal.back_book_months
    weights = (1.0 + p.vintage_growth) ** np.arange(n_new)
    new_month = cal.back_book_months + _choice(u[:, 1], weights)
    bb_month = np.minimum(
        (u[:, 1] * max(cal.back_book_months, 1)).astype(int), cal.back_book_months - 1
    )
    orig_month = np.where(bb & (cal.back_book_months > 0), bb_month, new_month).astype(np.int32)
    due_day = (3 + (u[:, 2] * 26).astype(np.int32)).astype(np.int8)
    product = (u[:, 3] < p.small_business_share).astype(np.int8)
    sb = product == 1
    archetype = _choice(u[:, 4], p.archetype_shares).astype(np.int8)
    ability = z[:, 0] + 0.15 * sb
    will_mean = np.asarray(p.archetype_willingness)[archetype]
    willingness = will_mean + p.willingness_sd * z[:, 1]
    fraud = u[:, 5] < p.fraud_rate
    # application data: real but partial signal
    latent_score = 0.75 * ability + 0.35 * willingness
    bureau = 650 + 55 * latent_score + p.bureau_noise * z[:, 2]
    bureau = np.clip(np.rint(bureau), 300, 850)
    income_latent = 0.6 * ability + 0.8 * z[:, 3]
    income_band = np.array(["low", "middle", "high"], dtype=object)[
        np.searchsorted([-0.5, 0.6], income_latent)
    ]
    emp_consumer = np.array(["salaried", "self_employed", "unemployed", "retired"], dtype=object)[
        np.searchsorted([0.62, 0.85, 0.92], ndtr((0.9 * z[:, 4] - 0.45 * ability) / 1.0112))
    ]
    emp = np.where(sb, "business_owner", emp_consumer).astype(object)
    age_band = np.array(["18-25", "26-35", "36-45", "46-55", "56+"], dtype=object)[
        _choice(u[:, 7], (0.15, 0.30, 0.27, 0.18, 0.10))
    ]
    gender = np.where(u[:, 8] < 0.5, "F", "M").astype(object)
    region = np.asarray(p.regions, dtype=object)[(u[:, 9] * len(p.regions)).astype(int)]
    terms_c = np.asarray(p.consumer_terms)[_choice(u[:, 10], p.consumer_term_weights)]
    terms_b = np.asarray(p.business_terms)[_choice(u[:, 10], p.business_term_weights)]
    term = np.where(sb, terms_b, terms_c).astype(np.int16)
    median = np.where(sb, p.business_principal_median, p.consumer_principal_median)
    principal = median * np.exp(p.principal_sigma * z[:, 5])
    step = np.where(sb, 1000.0, 100.0)
    principal = np.maximum(np.rint(principal / step) * step, step * 5)
    principal_c = (principal * 100).astype(np.int64)
    quality = ndtr((bureau - 650) / 80.0)
    rate = np.where(sb, 0.17 - 0.07 * quality, 0.26 - 0.13 * quality)
    rate = np.round(rate + 0.01 * (u[:, 11] - 0.5), 4)
    has_guarantor = sb & (u[:, 12] < p.guarantor_share)
    has_collateral = sb & (u[:, 13] < p.collateral_share)
    lo, hi = p.recovery_partial_share
    slo, shi = p.settlement_share
    cum_due, cum_prin, _ = amortize(principal_c, rate, term.astype(np.int64), width)
    arch = archetype.astype(int)
    return Book(
        index=index,
        orig_month=orig_month,
        due_day=due_day,
        term=term,
        product=product,
        principal_c=principal_c,
        rate=rate,
        has_guarantor=has_guarantor,
        has_collateral=has_collateral,
        region=region,
        income_band=income_band,
        employment=emp,
        bureau_score=bureau.astype(float),
        age_band=age_band,
        gender=gender,
        archetype=archetype,
        ability=ability,
        willingness=willingness,
        fraud=fraud,
        partial_share=np.round(0.2 + 0.6 * u[:, 14], 2),
        recovery_share=lo + (hi - lo) * u[:, 15],
        settlement_share=slo + (shi - slo) * u[:, 16],
        promise_keep=np.asarray(p.archetype_promise_keep)[arch],
        reachability=np.asarray(p.archetype_reachability)[arch],
        contact_response=np.asarray(p.archetype_contact_response)[arch],
        cum_due=cum_due,
        cum_principal=cum_prin,
        lead=lead,
    )
