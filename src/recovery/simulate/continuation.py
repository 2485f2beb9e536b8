"""Collections expected without an offer: the truth's ``v_usual`` (issue 22).

For every offer the simulator makes, the truth needs what the account would have paid
over the next ``H`` months (``config.offers.value_horizon_months``, default 24) if no
offer had been made and the usual collection work had gone on: the discounted
collections ``V_usual = Σ_{k=0}^{H-1} δ^k · collected_k`` with ``δ = 1 / (1 + r)``
(``config.offers.monthly_discount_rate``), month ``k = 0`` being the month of the offer
(an offer is made on its first day, so a settlement paid that month is not
discounted).

An exact computation is not practical: the ledger (partial payments, catch-ups,
charge-off at 180 DPD, spontaneous settlements and restructures, returned payments,
the limitation clock) and the collection operation (agents, promises, capacity)
make the month-by-month state far too large to enumerate over 24 months. So the truth
**re-simulates**: each offered account is copied ``R`` times (``OfferParams.
v_usual_draws``) in the state it had at the start of the offer month, and the copies
run the simulator's own month (:meth:`recovery.simulate.engine.ChunkSimulation.step`:
shocks, payment decisions, ledger, charge-off, deaths) for ``H`` months without any
offer, vectorised over all copies of all offers of a batch of months. The collection
operation's work enters as :class:`UsualWork`: each copy's month draws its odds
multiplier, promised payment day and limitation restart from the responses the real
operation gave that month to accounts of the same stage (aging bucket, or charged
off) and archetype (up to :data:`POOL_SIZE` recorded per group and month; the last
simulated month's for months after the simulation's end). That keeps how hard each
stage is worked, and how each archetype answers contact, month by month, but not the
account's own agent or promise history: the one approximation of the continuation.

``v_usual`` is the mean over the copies and ``v_usual_se`` its Monte-Carlo standard
error (standard deviation over copies / √R); ``docs/simulator.md`` gives the measured
size of both (``benchmarks/bench_offers.py``).

Examples
--------
>>> discount_factors(3, 0.01).round(4).tolist()
[1.0, 0.9901, 0.9803]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.simulate.behaviour import CHARGED_OFF, OPEN, PAID_OFF
from recovery.simulate.book import Calendar
from recovery.simulate.engine import ChunkOutput, ChunkSimulation
from recovery.simulate.hooks import OperationResponse
from recovery.simulate.ledger import hook_day

__all__ = ["POOL_SIZE", "UsualWork", "discount_factors", "usual_value"]

#: Responses of the real operation kept per (stage, archetype) group and month.
POOL_SIZE = 32
_GROUPS = 9 * 7  # stage (bucket 0-7, charged off) x archetype
_SHADOW_STREAM = 24
#: Copies of offered accounts re-simulated together (bounded memory).
_BATCH_ACCOUNTS = 60_000


def discount_factors(horizon: int, rate: float) -> np.ndarray:
    """``δ^k`` for months k = 0 … horizon-1 at a monthly rate (``δ = 1 / (1 + rate)``)."""
    return (1.0 + rate) ** -np.arange(horizon, dtype=float)


def _group(status: np.ndarray, bucket: np.ndarray, archetype: np.ndarray) -> np.ndarray:
    stage = np.where(status == CHARGED_OFF, 8, np.clip(bucket, 0, 7))
    return stage.astype(np.int64) * 7 + np.asarray(archetype, np.int64)


class UsualWork:
    """The collection operation's month, as the copies of :func:`usual_value` get it.

    :meth:`record` keeps, for each simulated month, up to :data:`POOL_SIZE` responses of
    the real operation per (stage, archetype) group; :meth:`step` gives each account of
    a copy's month the response of a recorded account of its group, drawn at random.

    Parameters
    ----------
    seed : int
        Seeds the choice of recorded responses.
    """

    def __init__(self, seed: int):
        self.rng = np.random.default_rng([seed, _SHADOW_STREAM, 1])
        self.pools: dict[int, tuple[np.ndarray, ...]] = {}

    def record(self, m: int, state, response: OperationResponse, day0: int) -> None:
        """Keep month ``m``'s responses (``day0``: the month's first day)."""
        n = len(state)
        if n == 0:
            return
        group = _group(state.status, state.bucket, state.archetype)
        order = np.lexsort((self.rng.random(n), group))
        g = group[order]
        first = np.searchsorted(g, np.arange(_GROUPS))
        rank = np.arange(n) - first[g]  # within the group, in sorted order
        kept = rank < POOL_SIZE
        keep = order[kept]
        mult = np.log(np.asarray(response.odds_multiplier, float))
        day = hook_day(response.payment_day, n)
        restart = response.limitation_restart_day
        restart = np.zeros(n, bool) if restart is None else np.asarray(restart) >= day0
        slot = (g[kept], rank[kept])
        pool_mult = np.zeros((_GROUPS, POOL_SIZE))
        pool_day = np.zeros((_GROUPS, POOL_SIZE), np.int64)
        pool_restart = np.zeros((_GROUPS, POOL_SIZE), bool)
        pool_mult[slot], pool_day[slot], pool_restart[slot] = mult[keep], day[keep], restart[keep]
        count = np.bincount(group[keep], minlength=_GROUPS)
        self.pools[m] = (pool_mult, pool_day, pool_restart, count)

    # the protocol of recovery.simulate.hooks.CollectionOperation
    def start(self, book) -> None:  # noqa: D102
        return None

    def start_chunk(self, chunk_index, accounts) -> None:  # noqa: D102
        return None

    def end_chunk(self, chunk_index) -> None:  # noqa: D102
        return None

    def tables(self) -> dict:  # noqa: D102
        return {}

    def step(self, state) -> OperationResponse:
        """A recorded response of the account's group (neutral when none was recorded)."""
        n = len(state)
        m = min(state.month_index, max(self.pools, default=0))
        if n == 0 or m not in self.pools:
            return OperationResponse.neutral(n)
        pool_mult, pool_day, pool_restart, count = self.pools[m]
        group = _group(state.status, state.bucket, state.archetype)
        pick = (self.rng.random(n) * count[group]).astype(np.int64)
        seen = count[group] > 0
        pick = np.where(seen, pick, 0)
        day0 = int((state.month_start - pd.Timestamp("1970-01-01")).days)
        return OperationResponse(
            odds_multiplier=np.where(seen, np.exp(pool_mult[group, pick]), 1.0),
            payment_day=np.where(seen, pool_day[group, pick], 0),
            limitation_restart_day=np.where(seen & pool_restart[group, pick], day0 + 14, -1),
        )


class _Copies(ChunkSimulation):
    """Copies of offered accounts, run by the simulator's own month without offers or
    truth (built by :func:`usual_value`, not by ``__init__``)."""

    def response_distribution(self, state):  # noqa: D102
        return None

    def truth_previous(self, *args) -> None:  # noqa: D102
        return None

    def _record_month(self, m: int) -> None:
        # a copy's horizon ends: it leaves the book of copies
        done = (self.last_month == m) & np.isin(self.status, (OPEN, CHARGED_OFF))
        self.status[done] = PAID_OFF


class _Streams:
    def __init__(self, rng: np.random.Generator, n: int):
        self.rng, self.n = rng, n

    def uniform(self, k: int) -> np.ndarray:
        return self.rng.random((self.n, k))


def _calendar(cal: Calendar, months: int) -> Calendar:
    """``cal`` run on to at least ``months`` months (same observed months)."""
    if months <= cal.n_months:
        return cal
    first = pd.Timestamp(cal.month_start(0)).to_period("M")
    periods = pd.period_range(first, periods=months + 3, freq="M")
    starts = periods.to_timestamp().values.astype("datetime64[D]") - np.datetime64("1970-01-01")
    return Calendar(starts.astype(np.int64), months, cal.observed_months, cal.back_book_months)


def usual_value(
    sim: ChunkSimulation,
    captured: list[tuple[int, dict]],
    work: UsualWork,
    horizon: int,
    rate: float,
    draws: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``V_usual`` and its standard error for captured offers (see the module notes).

    Parameters
    ----------
    sim : ChunkSimulation
        The chunk the offers were made in (parameters, calendar, book).
    captured : list of (int, dict)
        Per offer month ``m``: the per-account arrays of the offered accounts at the
        start of ``m`` (``pos``: their positions in the chunk, and every per-account
        attribute of ``sim``).
    work : UsualWork
        The operation's recorded responses.
    horizon, rate, draws, seed
        Months ``H``, monthly discount rate, copies ``R`` and the seed of the copies'
        draws.

    Returns
    -------
    (ndarray, ndarray)
        ``v_usual`` and ``v_usual_se`` (currency) per offer, in the order of ``captured``.
    """
    total = sum(len(c["pos"]) for _, c in captured)
    value = np.zeros(total)
    error = np.zeros(total)
    if total == 0 or draws < 1:
        return value, error
    factors = discount_factors(horizon, rate)
    batches: list[list[tuple[int, dict]]] = [[]]
    size = 0
    for item in captured:
        copies = len(item[1]["pos"]) * draws
        if batches[-1] and size + copies > _BATCH_ACCOUNTS:
            batches.append([])
            size = 0
        batches[-1].append(item)
        size += copies
    done = 0
    for batch in batches:
        sums = _run_copies(sim, batch, work, horizon, factors, draws, seed)
        n = len(sums)
        value[done : done + n] = sums.mean(axis=1)
        if draws > 1:
            error[done : done + n] = sums.std(axis=1, ddof=1) / np.sqrt(draws)
        done += n
    return value, error


def _run_copies(sim, batch, work, horizon, factors, draws, seed) -> np.ndarray:
    """Discounted collections (currency) of ``draws`` copies of each offer of ``batch``:
    an (offers, draws) array."""
    months = np.concatenate([np.full(len(c["pos"]), m) for m, c in batch])
    n_offers = len(months)
    copies = np.repeat(np.arange(n_offers), draws)
    first_month = int(months.min())
    cal = _calendar(sim.cal, int(months.max()) + horizon)
    joined = {k: np.concatenate([c[k] for _, c in batch]) for k in batch[0][1]}
    cp = object.__new__(_Copies)
    cp.__dict__.update({k: v for k, v in vars(sim).items() if k not in joined})
    for k, v in joined.items():
        if k != "pos":
            setattr(cp, k, v[copies])
    book = sim.book
    fields = {}
    for name, v in vars(book).items():
        fields[name] = v[joined["pos"]][copies] if isinstance(v, np.ndarray) else v
    fields["orig_month"] = (months - 1)[copies]
    cp.book = type(book)(**fields)
    cp.n = len(copies)
    cp.cal = cal
    cp.operation = work
    cp.out = ChunkOutput()
    cp.prev_rows = None
    cp.paid_by_month = np.zeros((cp.n, cal.n_months), np.int64)
    cp.last_month = (months + horizon - 1)[copies]
    rng = np.random.default_rng([seed, _SHADOW_STREAM, sim.chunk_index, first_month])
    cp.streams = _Streams(rng, cp.n)
    for m in range(first_month, int(cp.last_month.max()) + 1):
        cp.step(m)
    k = np.arange(cal.n_months)[None, :] - months[copies][:, None]
    inside = (k >= 0) & (k < horizon)
    weight = np.where(inside, factors[np.clip(k, 0, horizon - 1)], 0.0)
    collected = (cp.paid_by_month * weight).sum(axis=1) / 100.0
    return collected.reshape(n_offers, draws)
