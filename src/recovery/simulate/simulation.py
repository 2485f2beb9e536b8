"""Run the simulator over a whole book and assemble the contract tables and the truth.

Examples
--------
>>> from recovery.simulate import simulate_portfolio
>>> portfolio, truth = simulate_portfolio(n_accounts=50, months=12, seed=1, operation=None)
>>> portfolio.table_names()
['accounts', 'schedule', 'payments', 'events']
>>> bool(truth.account_months["p_pay_true"].dropna().between(0, 1).all())
True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.atomic import publish, stage_file
from recovery.data.portfolio import Portfolio
from recovery.data.schema import EVENT_TABLES
from recovery.simulate.behaviour import DAYS_PER_MONTH
from recovery.simulate.book import BLOCK_SIZE, Calendar
from recovery.simulate.engine import CHANNELS, EVENT_CODES, ChunkSimulation
from recovery.simulate.hooks import BookInfo, CollectionOperation, NoOperation
from recovery.simulate.offer_engine import OfferChunkSimulation
from recovery.simulate.offers import OFFER_SCENARIOS, OfferParams
from recovery.simulate.params import ARCHETYPES, SHOCK_TYPES, SimulationParams, get_scenario
from recovery.simulate.truth import Truth

__all__ = ["simulate_portfolio", "iter_simulation", "DEFAULT_CHUNK_SIZE", "FOLLOW_UP_MONTHS"]

DEFAULT_CHUNK_SIZE = 20_000
#: Hidden months simulated after ``data_end`` so the truth estimands have full follow-up.
FOLLOW_UP_MONTHS = 12
_EPOCH = np.datetime64("1970-01-01", "D")
STATUS_NAMES = np.array(["open", "paid_off", "charged_off", "settled"], dtype=object)


def _dates(days: np.ndarray) -> np.ndarray:
    return (_EPOCH + np.asarray(days, dtype=np.int64).astype("timedelta64[D]")).astype(
        "datetime64[ns]"
    )


def _ids(prefix: str, index: np.ndarray, width: int) -> np.ndarray:
    return np.char.add(prefix, np.char.zfill(index.astype(str), width)).astype(object)


def _resolve_operation(operation):
    if operation is None:
        return NoOperation()
    if isinstance(operation, str):
        if operation != "default":
            from recovery.errors import ConfigError

            raise ConfigError(f"operation must be 'default', None or an object, got {operation!r}")
        try:  # part 2 (issue 5) plugs in here once it exists
            from recovery.simulate.operation import CollectionOperation as DefaultOperation
        except ImportError:
            return NoOperation()
        return DefaultOperation()
    return operation


def iter_simulation(
    config: Config | None = None,
    n_accounts: int = 5000,
    start: str = "2019-01-01",
    months: int = 84,
    seed: int = 0,
    scenario: str | SimulationParams = "benchmark",
    operation: CollectionOperation | str | None = "default",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
    offers: OfferParams | None = None,
) -> Iterator[tuple[Portfolio, Truth]]:
    """Simulate chunk by chunk, yielding each chunk's tables (bounded memory).

    Same parameters as :func:`simulate_portfolio`, plus ``chunk_size`` (accounts per
    chunk, rounded to whole blocks of 1,000; the output does not depend on it) and
    ``progress`` (called with 1 after each simulated chunk-month) and ``offers`` (the
    offer desk, :class:`recovery.simulate.offers.OfferParams`; the ``offers`` scenario
    brings its own). Only the last
    item's ``Truth`` carries the book-level ``recovery_by_age``; the operation's
    per-chunk tables come with their chunk, its remaining tables with the last one.

    Examples
    --------
    >>> chunks = iter_simulation(n_accounts=1500, months=3, seed=0, operation=None,
    ...                          chunk_size=1000)
    >>> [len(p.accounts) for p, t in chunks]
    [1000, 500]
    """
    config = config or Config()
    _check_config(config)
    params = get_scenario(scenario)
    scenario_name = scenario if isinstance(scenario, str) else "custom"
    if offers is None:
        offers = OFFER_SCENARIOS.get(scenario_name)
    if n_accounts < 1 or months < 1:
        from recovery.errors import ConfigError

        raise ConfigError("n_accounts and months must be positive")
    cal = Calendar.build(start, months, params.back_book_months, FOLLOW_UP_MONTHS)
    operation = _resolve_operation(operation)
    n_blocks = -(-n_accounts // BLOCK_SIZE)
    blocks_per_chunk = max(1, chunk_size // BLOCK_SIZE)
    n_chunks = -(-n_blocks // blocks_per_chunk)
    width = max(7, len(str(n_accounts - 1)))
    operation.start(
        BookInfo(
            params=params,
            config=config,
            month_starts=pd.DatetimeIndex(_dates(cal.starts[: cal.n_months])),
            data_end=cal.data_end,
            n_accounts=n_accounts,
            n_chunks=n_chunks,
            seed=seed,
        )
    )
    meta = {
        "seed": seed,
        "scenario": scenario_name,
        "n_accounts": n_accounts,
        "start": str(pd.Timestamp(start).date()),
        "months": months,
        "first_month": str(cal.month_start(0).date()),
        "data_end": str(cal.data_end.date()),
        "follow_up_months": FOLLOW_UP_MONTHS,
        "params": {k: v for k, v in dataclasses.asdict(params).items()},
    }
    if offers is not None:
        meta["offer_params"] = offers.to_dict()
    recovery_parts = []
    for c in range(n_chunks):
        first_block = c * blocks_per_chunk
        last_block = min(n_blocks, first_block + blocks_per_chunk)
        sizes = [
            min(BLOCK_SIZE, n_accounts - b * BLOCK_SIZE) for b in range(first_block, last_block)
        ]
        if offers is None:
            sim = ChunkSimulation(params, config, cal, seed, first_block, sizes, c, operation)
        else:
            sim = OfferChunkSimulation(
                params, config, cal, seed, first_block, sizes, c, operation, offers
            )
        sim.account_ids = _ids("A", sim.book.index, width)
        # a customer is named after its first account (several loans share it)
        sim.customer_ids = _ids("C", sim.book.index[sim.book.lead], width)
        accounts = _accounts_table(sim, cal)
        sim.accounts_for_operation = accounts
        out = sim.run(progress=progress)
        portfolio, truth, rec = _assemble(sim, out, cal, accounts, config, meta)
        monthly = {
            name: pd.concat(frames, ignore_index=True)
            for name, frames in (("actions", out.actions), ("assignments", out.assignments))
            if frames
        }
        _attach_operation_tables(portfolio, truth, monthly)
        if offers is not None:
            _attach_operation_tables(portfolio, truth, sim.offer_tables())
        chunk_tables = getattr(operation, "chunk_tables", None)
        if chunk_tables is not None:
            _attach_operation_tables(portfolio, truth, chunk_tables(c) or {})
        recovery_parts.append(rec)
        if c == n_chunks - 1:
            extra = operation.tables() or {}
            _attach_operation_tables(portfolio, truth, extra)
            truth.recovery_by_age = _recovery_table(
                pd.concat([r[0] for r in recovery_parts]), config
            )
            truth.recovery_curve = _recovery_curve_table(pd.concat([r[1] for r in recovery_parts]))
        yield portfolio, truth


def _check_config(config: Config) -> None:
    """The simulator's exact truth relies on these settings (see docs/simulator.md)."""
    from recovery.errors import ConfigError

    if config.aging.grace_days != 0:
        raise ConfigError(
            "the simulator's ledger has no grace days: set aging.grace_days = 0 to simulate "
            "(apply grace days when aging the simulated tables instead)"
        )
    if config.labels.p_pay_horizon_days != 30 or config.labels.p_cure_horizon_days != 60:
        raise ConfigError(
            "the simulator's truth is exact for labels.p_pay_horizon_days = 30 and "
            "labels.p_cure_horizon_days = 60; simulate with those and change them afterwards"
        )


def _attach_operation_tables(portfolio: Portfolio, truth: Truth, extra: dict) -> None:
    for name, df in extra.items():
        if df is None:
            continue
        if name.startswith("truth_"):
            key = name[len("truth_") :]
            current = truth.extra.get(key)
            truth.extra[key] = (
                df if current is None else pd.concat([current, df], ignore_index=True)
            )
        elif name == "events":
            portfolio.events = pd.concat([portfolio.events, df], ignore_index=True).sort_values(
                ["account_id", "date"], kind="stable", ignore_index=True
            )
        elif name in ("actions", "agents", "assignments", "offers"):
            current = getattr(portfolio, name)
            setattr(portfolio, name, df if current is None else pd.concat([current, df]))
        elif name == "schedule":  # later schedule versions (accepted plans, deferrals)
            portfolio.schedule = pd.concat([portfolio.schedule, df], ignore_index=True).sort_values(
                ["account_id", "schedule_version", "installment_no"],
                kind="stable",
                ignore_index=True,
            )


def simulate_portfolio(
    config: Config | None = None,
    n_accounts: int = 5000,
    start: str = "2019-01-01",
    months: int = 84,
    seed: int = 0,
    scenario: str | SimulationParams = "benchmark",
    operation: CollectionOperation | str | None = "default",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
    offers: OfferParams | None = None,
) -> tuple[Portfolio, Truth]:
    """Simulate a lender's loan book with borrower behaviour and ground truth.

    Parameters
    ----------
    config : Config, optional
        Aging rules (tolerance, charge-off DPD) and label definitions the ledger and
        the truth follow; defaults to DESIGN.md's.
    n_accounts : int
        Number of loans (one borrower each, unless the scenario gives some customers
        several: ``multi_loan_share``).
    start : str
        First month of the observed period; the back book is originated in the
        ``params.back_book_months`` months before it (its history is included).
    months : int
        Observed months from ``start``; ``meta['data_end']`` is the last day of the
        last one. Twelve hidden months follow for the truth's recovery estimand.
    seed : int
        Same arguments and seed → identical tables.
    scenario : str or SimulationParams
        A named scenario of :data:`recovery.simulate.params.SCENARIOS` (``benchmark``,
        ``stable``, ``no_age_effect``, ``offers``) or a parameter set. ``offers`` is the
        benchmark's book with an offer desk (payment plans, settlements, deferrals;
        :mod:`recovery.simulate.offers`): it adds the ``offers`` table, the schedule
        versions of accepted plans and deferrals, and ``truth.extra['offers']``.
    operation : CollectionOperation, "default" or None
        The collection operation (part 2) acting through the hook of
        :mod:`recovery.simulate.hooks`; ``"default"`` uses
        ``recovery.simulate.operation.CollectionOperation`` when available, ``None``
        none.
    chunk_size : int
        Accounts simulated at a time (memory bound); results do not depend on it.
    progress : callable, optional
        Called with 1 after each chunk-month (e.g. ``tqdm.update``).
    offers : OfferParams, optional
        An offer desk for any scenario (default: the ``offers`` scenario's, none for
        the others).

    Returns
    -------
    portfolio : Portfolio
        ``accounts``, ``schedule``, ``payments``, ``events`` (and ``actions``,
        ``agents``, ``assignments`` when an operation produces them).
    truth : Truth
        ``borrowers``, ``shocks``, ``account_months``, ``recovery_by_age``,
        ``recovery_curve`` (and the operation's truth in ``extra``).

    Notes
    -----
    Everything is held in memory (about 10 MB per 1,000 accounts over 84 months);
    for books beyond ~200,000 accounts stream them with :func:`write_simulation`
    (``recovery simulate``) instead.

    Examples
    --------
    >>> portfolio, truth = simulate_portfolio(n_accounts=30, months=6, seed=3)
    >>> len(portfolio.accounts), portfolio.meta["data_end"]
    (30, '2019-06-30')
    """
    parts = list(
        iter_simulation(
            config,
            n_accounts,
            start,
            months,
            seed,
            scenario,
            operation,
            chunk_size,
            progress,
            offers=offers,
        )
    )
    portfolio = Portfolio(meta=dict(parts[-1][0].meta))
    for name in EVENT_TABLES:
        frames = [getattr(p, name) for p, _ in parts if getattr(p, name) is not None]
        if frames:
            setattr(portfolio, name, pd.concat(frames, ignore_index=True))
    truth = Truth(meta=dict(parts[-1][1].meta))
    last = parts[-1][1]
    for name in ("borrowers", "shocks", "account_months"):
        frames = [getattr(t, name) for _, t in parts if getattr(t, name) is not None]
        setattr(truth, name, pd.concat(frames, ignore_index=True))
    truth.recovery_by_age = last.recovery_by_age
    truth.recovery_curve = last.recovery_curve
    names = dict.fromkeys(k for _, t in parts for k in t.extra)
    for name in names:
        frames = [t.extra[name] for _, t in parts if t.extra.get(name) is not None]
        truth.extra[name] = pd.concat(frames, ignore_index=True)
    return portfolio, truth


# ------------------------------------------------------------------ assembly
def _accounts_table(sim: ChunkSimulation, cal: Calendar) -> pd.DataFrame:
    b = sim.book
    orig_day = cal.starts[b.orig_month] + b.due_day.astype(np.int64) - 1
    return pd.DataFrame(
        {
            "account_id": sim.account_ids,
            "customer_id": sim.customer_ids,
            "product": np.where(b.product == 1, "small_business", "consumer_installment").astype(
                object
            ),
            "origination_date": _dates(orig_day),
            "principal": b.principal_c / 100.0,
            "term_months": b.term.astype(np.int64),
            "interest_rate": b.rate,
            "region": b.region,
            "has_guarantor": b.has_guarantor,
            "has_collateral": b.has_collateral,
            "income_band": b.income_band,
            "employment": b.employment,
            "bureau_score": b.bureau_score,
            "age_band": b.age_band,
            "gender": b.gender,
        }
    )


def _schedule_rows(ids, cum_due, cum_prin, term, base_month, due_day, cal, version, effective):
    n = len(ids)
    if n == 0:
        return None
    T = term.astype(np.int64)
    rep = np.repeat(np.arange(n), T)
    k = _ranges(T)
    due = _due_days(cal, base_month[rep] + k, due_day[rep])
    amount = cum_due[rep, k] - cum_due[rep, k - 1]
    principal = cum_prin[rep, k] - cum_prin[rep, k - 1]
    df = pd.DataFrame(
        {
            "account_id": ids[rep],
            "installment_no": k.astype(np.int64),
            "due_date": _dates(due),
            "amount_due": amount / 100.0,
            "principal_due": principal / 100.0,
            "schedule_version": np.full(len(rep), version, np.int64),
        }
    )
    if effective is None:
        df["effective_from"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    else:
        df["effective_from"] = _dates(effective[rep])
    return df


def _ranges(T: np.ndarray) -> np.ndarray:
    """1..T[0], 1..T[1], … concatenated."""
    starts = np.concatenate([[0], np.cumsum(T)[:-1]])
    return np.arange(int(T.sum())) - np.repeat(starts, T) + 1


def _due_days(cal: Calendar, month: np.ndarray, due_day: np.ndarray) -> np.ndarray:
    month = np.clip(month, 0, len(cal.starts) - 1)
    return cal.starts[month] + due_day.astype(np.int64) - 1


def _assemble(sim: ChunkSimulation, out, cal: Calendar, accounts, config, meta):
    b = sim.book
    ids = sim.account_ids
    data_end_day = cal.starts[cal.observed_months] - 1
    # schedule: version 1 for every account, version 2 for restructures
    sched = [
        _schedule_rows(
            ids, b.cum_due, b.cum_principal, b.term, b.orig_month, b.due_day, cal, 1, None
        )
    ]
    for jr, cd, cp, m, eff, term in out.restructures:
        keep = eff <= data_end_day
        if keep.any():
            sched.append(
                _schedule_rows(
                    ids[jr[keep]],
                    cd[keep],
                    cp[keep],
                    term[keep],
                    np.full(keep.sum(), m),
                    b.due_day[jr[keep]],
                    cal,
                    2,
                    eff[keep],
                )
            )
    schedule = pd.concat([s for s in sched if s is not None], ignore_index=True)
    schedule = schedule.sort_values(
        ["account_id", "schedule_version", "installment_no"], kind="stable", ignore_index=True
    )
    # payments
    pay = {k: np.concatenate(v) for k, v in out.payments.items()} if out.payments else None
    if pay is not None:
        keep = pay["day"] <= data_end_day
        pay = {k: v[keep] for k, v in pay.items()}
        pos = pay["pos"]
        rev = pay["reversed_day"]
        payments = pd.DataFrame(
            {
                "account_id": ids[pos],
                "payment_date": _dates(pay["day"]),
                "amount": pay["amount"] / 100.0,
                "channel": np.asarray(CHANNELS, dtype=object)[pay["channel"]],
                "payment_id": np.char.add(
                    np.char.add(ids[pos].astype(str), "-"), pay["seq"].astype(str)
                ).astype(object),
                "reversed_date": np.where(
                    rev >= 0, _dates(np.maximum(rev, 0)), np.datetime64("NaT")
                ),
            }
        )
        payments["reversed_date"] = pd.to_datetime(payments["reversed_date"])
        payments = payments.sort_values(["account_id", "payment_date"], kind="stable")
        payments = payments.reset_index(drop=True)
    else:
        payments = pd.DataFrame(
            {
                "account_id": pd.Series(dtype=object),
                "payment_date": pd.Series(dtype="datetime64[ns]"),
                "amount": pd.Series(dtype=float),
                "channel": pd.Series(dtype=object),
                "payment_id": pd.Series(dtype=object),
                "reversed_date": pd.Series(dtype="datetime64[ns]"),
            }
        )
    # events
    ev = {k: np.concatenate(v) for k, v in out.events.items()} if out.events else None
    if ev is not None:
        keep = ev["day"] <= data_end_day
        events = pd.DataFrame(
            {
                "account_id": ids[ev["pos"][keep]],
                "date": _dates(ev["day"][keep]),
                "event": np.asarray(EVENT_CODES, dtype=object)[ev["code"][keep]],
            }
        ).sort_values(["account_id", "date"], kind="stable", ignore_index=True)
    else:
        events = pd.DataFrame(
            {
                "account_id": pd.Series(dtype=object),
                "date": pd.Series(dtype="datetime64[ns]"),
                "event": pd.Series(dtype=object),
            }
        )
    portfolio = Portfolio(
        accounts=accounts,
        schedule=schedule,
        payments=payments,
        events=events,
        meta={
            "data_end": meta["data_end"],
            "source": "recovery.simulate",
            **{k: meta[k] for k in ("seed", "scenario", "n_accounts", "start", "months")},
        },
    )
    # truth: borrowers
    borrowers = pd.DataFrame(
        {
            "account_id": ids,
            "customer_id": sim.customer_ids,
            "archetype": np.asarray(ARCHETYPES, dtype=object)[b.archetype],
            "ability": b.ability,
            "willingness": b.willingness,
            "fraud": b.fraud,
            "promise_keep": b.promise_keep,
            "reachability": b.reachability,
            "contact_response": b.contact_response,
            "partial_share": b.partial_share,
            "recovery_share": b.recovery_share,
            "settlement_share": b.settlement_share,
            "death_date": pd.to_datetime(
                np.where(
                    sim.death_day >= 0, _dates(np.maximum(sim.death_day, 0)), np.datetime64("NaT")
                )
            ),
        }
    )
    borrowers.loc[borrowers["death_date"] > cal.data_end, "death_date"] = pd.NaT
    # truth: shocks (ended spells plus those still under way)
    sh = {k: np.concatenate(v) for k, v in out.shocks.items()} if out.shocks else {}
    ongoing = np.flatnonzero(sim.shock)
    pos = np.concatenate([sh.get("pos", np.zeros(0, np.int64)), ongoing]).astype(np.int64)
    stype = np.concatenate([sh.get("shock_type", np.zeros(0, np.int8)), sim.shock_type[ongoing]])
    smonth = np.concatenate(
        [sh.get("start_month", np.zeros(0, np.int64)), sim.shock_start[ongoing]]
    )
    eday = np.concatenate([sh.get("end_day", np.zeros(0, np.int64)), np.full(len(ongoing), -1)])
    perm = np.concatenate([sh.get("permanent", np.zeros(0, bool)), sim.shock_perm[ongoing]])
    start_day = cal.starts[smonth.astype(np.int64)]
    keep = start_day <= data_end_day
    eday = np.where(eday > data_end_day, -1, eday)
    shocks = pd.DataFrame(
        {
            "account_id": ids[pos[keep]],
            "shock_type": np.asarray(SHOCK_TYPES, dtype=object)[stype[keep].astype(int)],
            "start_date": _dates(start_day[keep]),
            "end_date": pd.to_datetime(
                np.where(eday[keep] >= 0, _dates(np.maximum(eday[keep], 0)), np.datetime64("NaT"))
            ),
            "permanent": perm[keep],
        }
    ).sort_values(["account_id", "start_date"], ignore_index=True)
    # truth: account months
    mo = {k: np.concatenate(v) for k, v in out.months.items()}
    month = mo["month"]
    observed = month < cal.observed_months
    month_end_day = cal.starts[month + 1] - 1
    status = STATUS_NAMES[mo["status"]]
    am = pd.DataFrame(
        {
            "account_id": ids[mo["pos"]],
            "month_end": _dates(month_end_day),
            "status": status,
            "dpd": mo["dpd"],
            "balance": np.round(mo["balance"], 2),
            "amount_overdue": np.round(mo["overdue"], 2),
            "debt_age_days": pd.array(
                np.where(mo["debt_age"] >= 0, mo["debt_age"], 0), dtype="Int64"
            ),
            "schedule_version": mo["version"].astype(np.int8),
            "shock_active": mo["shock"],
            "ability_now": mo["ability"].astype(np.float32),
            "limitation_expired": mo["expired"],
            "p_payment_month": mo["p_payment_month"],
            "operation_multiplier": mo["operation_multiplier"],
            "p_pay_true": mo["p_pay_true"],
            "p_cure_true": mo["p_cure_true"],
        }
    )
    am.loc[mo["debt_age"] < 0, "debt_age_days"] = pd.NA
    # recovery-by-age sums (hidden follow-up included)
    rec = (_recovery_sums(sim, mo, cal, config), _recovery_curve_sums(sim, out, mo, cal))
    am = am[observed].sort_values(["account_id", "month_end"], ignore_index=True)
    truth = Truth(borrowers=borrowers, shocks=shocks, account_months=am, meta=dict(meta))
    return portfolio, truth, rec


def _recovery_curve_sums(sim, out, mo, cal) -> pd.DataFrame:
    """Per debt-age month: charged-off balance followed at that age and recoveries then.

    Recoveries are non-reversed payments after the charge-off day; the balance is the
    outstanding principal at the last month end before charge-off; an account counts
    at age *a* when its episode start plus *a + 1* months lies within the simulation.
    """
    pos = np.flatnonzero(sim.co_day >= 0)
    max_age = 120
    empty = pd.DataFrame(
        {
            "age": np.arange(max_age),
            "accounts": np.zeros(max_age, np.int64),
            "balance": np.zeros(max_age),
            "recovered": np.zeros(max_age),
        }
    )
    if len(pos) == 0:
        return empty
    start = sim.episode_start[pos]
    # balance written off: last month-end balance before the charge-off month
    rows = np.flatnonzero(np.isin(mo["pos"], pos) & (mo["status"] == 0))
    key = pd.DataFrame(
        {"pos": mo["pos"][rows], "month": mo["month"][rows], "bal": mo["balance"][rows]}
    )
    key = key[key["month"] < sim.co_month[key["pos"].to_numpy()]]
    written = key.sort_values("month").groupby("pos")["bal"].last().reindex(pos).fillna(0.0)
    end_day = cal.starts[cal.n_months] - 1
    followed = np.floor((end_day - start) / DAYS_PER_MONTH).astype(np.int64)  # full months
    ages = np.arange(max_age)
    observed = ages[None, :] < followed[:, None]
    accounts = observed.sum(axis=0)
    balance = (observed * written.to_numpy()[:, None]).sum(axis=0)
    recovered = np.zeros(max_age)
    if out.payments:
        pay = {k: np.concatenate(v) for k, v in out.payments.items()}
        good = pay["reversed_day"] < 0
        p_pos = pay["pos"][good]
        co_day = sim.co_day[p_pos]
        after = (co_day >= 0) & (pay["day"][good] > co_day)
        p_pos = p_pos[after]
        age = np.floor((pay["day"][good][after] - sim.episode_start[p_pos]) / DAYS_PER_MONTH)
        age = age.astype(np.int64)
        ok = (age >= 0) & (age < max_age)
        recovered = np.bincount(age[ok], pay["amount"][good][after][ok] / 100.0, minlength=max_age)
    return pd.DataFrame(
        {"age": ages, "accounts": accounts, "balance": balance, "recovered": recovered}
    )


def _recovery_curve_table(sums: pd.DataFrame) -> pd.DataFrame:
    agg = sums.groupby("age", as_index=False)[["accounts", "balance", "recovered"]].sum()
    agg = agg[agg["accounts"] > 0]
    increment = agg["recovered"] / agg["balance"].where(agg["balance"] > 0)
    cumulative = increment.fillna(0.0).cumsum()
    total = cumulative.iloc[-1] if len(cumulative) else np.nan
    return pd.DataFrame(
        {
            "debt_age_months": agg["age"].astype(np.int64),
            "accounts": agg["accounts"].astype(np.int64),
            "balance": agg["balance"],
            "recovered": agg["recovered"],
            "recovery_rate": increment,
            "cumulative_recovery_share": cumulative,
            "share_of_lifetime": cumulative / total if total and total > 0 else np.nan,
        }
    ).reset_index(drop=True)


def _recovery_sums(sim, mo, cal, config) -> pd.DataFrame:
    """Per (view, age band): balance, amount collected in the horizon, counts."""
    horizon = config.analytics.recovery_horizon_months
    month = mo["month"]
    status = mo["status"]
    delinquent = ((status == 0) & (mo["dpd"] > 0)) | (status == 2)
    sel = delinquent & (month < cal.observed_months) & (mo["debt_age"] >= 0) & (mo["balance"] > 0)
    pos = mo["pos"][sel]
    m = month[sel]
    cum = np.cumsum(sim.paid_by_month, axis=1)
    end = np.minimum(m + horizon, cal.n_months - 1)
    collected = (cum[pos, end] - cum[pos, m]) / 100.0
    balance = mo["balance"][sel]
    capped = np.minimum(collected, balance)
    age_months = mo["debt_age"][sel] / DAYS_PER_MONTH
    edges = np.asarray(config.analytics.age_bands_months, float)
    band = np.searchsorted(edges, age_months, side="right") - 1
    split = (age_months >= config.analytics.age_split_months).astype(int)
    co = status[sel] == 2
    frames = []
    for view, mask in (("charged_off", co), ("all_delinquent", np.ones(len(co), bool))):
        for kind, key, n_keys in (("band", band, len(edges)), ("split", split, 2)):
            idx = key[mask]
            frames.append(
                pd.DataFrame(
                    {
                        "view": view,
                        "kind": kind,
                        "key": np.arange(n_keys),
                        "account_months": np.bincount(idx, minlength=n_keys),
                        "balance": np.bincount(idx, balance[mask], minlength=n_keys),
                        "collected": np.bincount(idx, capped[mask], minlength=n_keys),
                        "payers": np.bincount(idx, (collected[mask] > 0), minlength=n_keys),
                    }
                )
            )
    return pd.concat(frames, ignore_index=True)


def _recovery_table(sums: pd.DataFrame, config: Config) -> pd.DataFrame:
    agg = sums.groupby(["view", "kind", "key"], sort=False, as_index=False)[
        ["account_months", "balance", "collected", "payers"]
    ].sum()
    edges = list(config.analytics.age_bands_months)
    split = config.analytics.age_split_months
    labels, lo, hi = [], [], []
    for kind, key in zip(agg["kind"], agg["key"], strict=False):
        if kind == "band":
            a = edges[key]
            b = edges[key + 1] if key + 1 < len(edges) else np.inf
            labels.append(f"{a}-{b}m" if np.isfinite(b) else f"{a}m+")
            lo.append(a)
            hi.append(b)
        else:
            labels.append(f"<{split}m" if key == 0 else f"{split}m+")
            lo.append(0 if key == 0 else split)
            hi.append(split if key == 0 else np.inf)
    out = pd.DataFrame(
        {
            "view": agg["view"],
            "grouping": np.where(agg["kind"] == "band", "age_band", "age_split"),
            "age_band": labels,
            "age_from_months": lo,
            "age_to_months": hi,
            "account_months": agg["account_months"].astype(np.int64),
            "balance": agg["balance"],
            "collected": agg["collected"],
            "recovery_share": agg["collected"] / agg["balance"].where(agg["balance"] > 0),
            "payer_share": agg["payers"] / agg["account_months"].where(agg["account_months"] > 0),
            "horizon_months": config.analytics.recovery_horizon_months,
        }
    )
    return out


def write_simulation(
    path: str | Path,
    config: Config | None = None,
    n_accounts: int = 5000,
    start: str = "2019-01-01",
    months: int = 84,
    seed: int = 0,
    scenario: str | SimulationParams = "benchmark",
    operation: CollectionOperation | str | None = "default",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
    validate: str = "first",
) -> Path:
    """Simulate and stream the portfolio to ``path`` and its truth to ``path/truth``.

    Chunks are appended to one Parquet file per table (``<table>.parquet``, one row
    group per chunk), so memory stays bounded by the chunk size. Files are written
    under temporary names and renamed into place only when every chunk succeeded;
    the directory then reads back with :func:`recovery.data.io.load_portfolio` and
    :func:`recovery.simulate.load_truth`.

    Parameters
    ----------
    path : str or Path
        Output directory (created if needed).
    validate : {"first", "all", "none"}
        Check the data contract on the first chunk only (default: the generator is
        the same for every chunk and full validation costs more than simulating),
        on every chunk, or not at all. A failure writes nothing.
    config, n_accounts, start, months, seed, scenario, operation, chunk_size, progress
        As for :func:`simulate_portfolio`.

    Returns
    -------
    Path
        The directory.

    Examples
    --------
    >>> import tempfile
    >>> from recovery.data.io import load_portfolio
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write_simulation(tmp, n_accounts=40, months=6, seed=2, operation=None)
    ...     len(load_portfolio(tmp).accounts)
    40
    """
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from recovery.data.schema import validate_portfolio
    from recovery.errors import ConfigError, ValidationError

    if validate not in ("first", "all", "none"):
        raise ConfigError("validate must be 'first', 'all' or 'none'")
    config = config or Config()
    directory = Path(path)
    (directory / "truth").mkdir(parents=True, exist_ok=True)
    writers: dict[Path, tuple] = {}

    def append(target: Path, df: pd.DataFrame) -> None:
        if target not in writers:
            tmp = stage_file(target)  # leftovers of a killed run removed first
            table = pa.Table.from_pandas(df, preserve_index=False)
            writers[target] = (pq.ParquetWriter(tmp, table.schema), table.schema, tmp)
        writer, schema, _ = writers[target]
        writer.write_table(pa.Table.from_pandas(df, schema=schema, preserve_index=False))

    truth_meta: dict = {}
    portfolio_meta: dict = {}
    agents_seen = None
    try:
        chunks = iter_simulation(
            config, n_accounts, start, months, seed, scenario, operation, chunk_size, progress
        )
        for c, (portfolio, truth) in enumerate(chunks):
            if portfolio.agents is not None:
                agents_seen = portfolio.agents
            if validate == "all" or (validate == "first" and c == 0):
                check = portfolio.copy()
                if check.agents is None and check.actions is not None and agents_seen is not None:
                    check.agents = agents_seen.copy()  # agent rows come with the first chunk
                report = validate_portfolio(check, config)
                if len(report):
                    raise ValidationError(report)
            for name, df in portfolio.tables().items():
                append(directory / f"{name}.parquet", df)
            for name, df in truth.tables().items():
                if name in ("recovery_by_age", "recovery_curve"):
                    continue  # book-level tables, written once below
                append(directory / "truth" / f"{name}.parquet", df)
            portfolio_meta, truth_meta = portfolio.meta, truth.meta
            last_truth = truth
        for writer, _, _ in writers.values():
            writer.close()
    except BaseException:
        for writer, _, tmp in writers.values():
            try:
                writer.close()
            finally:
                tmp.unlink(missing_ok=True)
        raise
    for target, (_, _, tmp) in writers.items():
        publish(tmp, target)
    from recovery.data.io import write_table

    for name in ("recovery_by_age", "recovery_curve"):
        write_table(getattr(last_truth, name), directory / "truth" / f"{name}.parquet")
    (directory / "portfolio.json").write_text(
        json.dumps(portfolio_meta, indent=2, default=str), encoding="utf-8"
    )
    (directory / "truth" / "truth.json").write_text(
        json.dumps(truth_meta, indent=2, default=str), encoding="utf-8"
    )
    return directory
