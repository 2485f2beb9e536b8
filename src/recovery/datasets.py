"""Shipped and generated example data.

``load_sample()`` returns the small portfolio committed in ``data/sample/`` (made by
the simulator, packaged with the library). ``load_sample("demo")`` builds a larger
deterministic book with the simulator on first use and caches it outside git (in
``$RECOVERY_CACHE`` or ``~/.cache/recovery``), for notebooks and the report where the
committed sample is too small to show signal. ``load_sample("offers")`` is built and
cached the same way, apart from the others: a book of the ``offers`` scenario, with
the ``offers`` table (payment plans, settlements, deferrals) and the offers' truth, so
the main sample and every figure measured on it stay as they are.

The committed sample (see ``docs/data.md``): about 2,000 accounts simulated over 84
months with the benchmark scenario; tables ``accounts``, ``schedule``, ``payments``,
``actions``, ``agents``, ``assignments``, ``events`` with the columns of
:data:`recovery.data.schema.TABLES`, and the simulator's truth in ``data/sample/truth/``
(never read by the pipeline).

``tiny_tables()`` and ``tiny_portfolio()`` are a hand-made book of two loans, small
enough to follow by hand: the examples of the docs and the tests use it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from recovery.data.portfolio import Portfolio
from recovery.errors import DataError

__all__ = [
    "load_sample",
    "load_sample_truth",
    "sample_path",
    "DEMO_SETTINGS",
    "OFFERS_SETTINGS",
    "tiny_tables",
    "tiny_portfolio",
]

DEMO_SETTINGS = {"n_accounts": 20_000, "months": 84, "seed": 2024, "scenario": "benchmark"}
#: The offers sample: the ``offers`` scenario, built on first use (about a minute).
OFFERS_SETTINGS = {"n_accounts": 3_000, "months": 60, "seed": 22, "scenario": "offers"}
_BUILT = {"demo": DEMO_SETTINGS, "offers": OFFERS_SETTINGS}


def sample_path(name: str = "sample") -> Path:
    """Directory of a sample: the packaged ``sample`` or a cached ``demo`` or ``offers`` book."""
    if name == "sample":
        packaged = Path(__file__).parent / "data" / "sample"
        if (packaged / "accounts.parquet").is_file():
            return packaged
        repo = Path(__file__).resolve().parents[2] / "data" / "sample"
        if (repo / "accounts.parquet").is_file():
            return repo
        raise DataError(
            "the shipped sample is missing: reinstall recovery or regenerate data/sample"
        )
    if name in _BUILT:
        root = Path(os.environ.get("RECOVERY_CACHE", Path.home() / ".cache" / "recovery"))
        tag = "-".join(str(v) for v in _BUILT[name].values())
        return root / f"{name}-{tag}"
    raise DataError(f"unknown sample {name!r}: use 'sample', 'demo' or 'offers'")


def _build(directory: Path, settings: dict) -> None:
    from recovery.data.io import save_portfolio
    from recovery.simulate import save_truth, simulate_portfolio

    portfolio, truth = simulate_portfolio(**settings)
    staging = directory.with_name(directory.name + ".building")
    save_portfolio(portfolio, staging)
    save_truth(truth, staging / "truth")
    if directory.exists():  # pragma: no cover - a concurrent build won
        return
    staging.rename(directory)


def load_sample(name: str = "sample") -> Portfolio:
    """Load an example portfolio.

    Parameters
    ----------
    name : {"sample", "demo", "offers"}
        ``sample``: the committed sample (≈2,000 accounts, 84 months). ``demo``: a
        ≈20,000-account book simulated on first use (a minute or two) and cached.
        ``offers``: a 3,000-account book of the ``offers`` scenario (with an ``offers``
        table), simulated on first use and cached.

    Returns
    -------
    Portfolio
        Validated tables; ``meta['data_end']`` is the last simulated day.

    Examples
    --------
    >>> p = load_sample()
    >>> sorted(p.table_names())[:3]
    ['accounts', 'actions', 'agents']
    """
    from recovery.data.io import load_portfolio

    directory = sample_path(name)
    if name in _BUILT and not (directory / "accounts.parquet").is_file():
        directory.parent.mkdir(parents=True, exist_ok=True)
        _build(directory, _BUILT[name])
    return load_portfolio(directory)


def load_sample_truth(name: str = "sample"):
    """The simulator's truth tables behind a sample (for evaluation only).

    Examples
    --------
    >>> truth = load_sample_truth()
    >>> "account_months" in truth.tables()
    True
    """
    from recovery.simulate import load_truth

    if name in _BUILT:
        load_sample(name)
    return load_truth(sample_path(name) / "truth")


def tiny_tables() -> dict[str, pd.DataFrame]:
    """The tables of a hand-made book of two loans, small enough to follow by hand.

    A1: 1,000 lent on 2024-01-10, 3 × 350 due on the 10th of Feb, Mar, Apr; paid on
        time in Feb, nothing in March (overdue from 2024-03-10), catch-up in April.
        Agent G1 holds it from 2024-03-11 to 2024-04-20: an SMS, then a call with a
        promise of 700 for 2024-04-20.
    A2: 600 lent on 2024-01-15, 3 × 210 due on the 15th; paid late once; on a
        hardship plan from 2024-03-20.

    Returns
    -------
    dict of DataFrame
        ``accounts``, ``schedule``, ``payments``, ``actions``, ``agents``,
        ``assignments`` and ``events`` (the keyword arguments of
        :class:`~recovery.data.portfolio.Portfolio`), new on every call.

    Examples
    --------
    >>> tiny_tables()["schedule"].groupby("account_id")["amount_due"].sum().to_dict()
    {'A1': 1050.0, 'A2': 630.0}
    """
    accounts = pd.DataFrame(
        {
            "account_id": ["A1", "A2"],
            "customer_id": ["C1", "C2"],
            "product": ["consumer_installment", "small_business"],
            "origination_date": pd.to_datetime(["2024-01-10", "2024-01-15"]),
            "principal": [1000.0, 600.0],
            "term_months": [3, 3],
            "interest_rate": [0.12, 0.10],
            "region": ["north", "south"],
            "has_guarantor": [False, True],
            "has_collateral": [False, False],
        }
    )
    schedule = pd.DataFrame(
        {
            "account_id": ["A1"] * 3 + ["A2"] * 3,
            "installment_no": [1, 2, 3] * 2,
            "due_date": pd.to_datetime(
                ["2024-02-10", "2024-03-10", "2024-04-10", "2024-02-15", "2024-03-15", "2024-04-15"]
            ),
            "amount_due": [350.0] * 3 + [210.0] * 3,
            "principal_due": [333.0, 333.0, 334.0, 200.0, 200.0, 200.0],
            "schedule_version": [1] * 6,
        }
    )
    payments = pd.DataFrame(
        {
            "payment_id": ["P1", "P2", "P3", "P4", "P5"],
            "account_id": ["A1", "A1", "A2", "A2", "A2"],
            "payment_date": pd.to_datetime(
                ["2024-02-10", "2024-04-20", "2024-02-15", "2024-03-25", "2024-04-15"]
            ),
            "amount": [350.0, 700.0, 210.0, 210.0, 210.0],
            "channel": ["auto_debit", "bank_transfer", "auto_debit", "cash", "auto_debit"],
            "reversed_date": pd.to_datetime([None, None, None, None, None]),
        }
    )
    agents = pd.DataFrame(
        {
            "agent_id": ["G1"],
            "team": ["early"],
            "level": [1],
            "hire_date": pd.to_datetime(["2020-05-01"]),
        }
    )
    actions = pd.DataFrame(
        {
            "action_id": ["X1", "X2"],
            "account_id": ["A1", "A1"],
            "agent_id": ["G1", "G1"],
            "ts": pd.to_datetime(["2024-03-12 10:00", "2024-03-20 15:30"]),
            "channel": ["sms", "call"],
            "outcome": ["delivered", "promise_to_pay"],
            "promise_amount": [None, 700.0],
            "promise_date": pd.to_datetime([None, "2024-04-20"]),
            "reason_code": [None, "cash_flow"],
            "attitude": [None, "victim"],
        }
    )
    assignments = pd.DataFrame(
        {
            "account_id": ["A1"],
            "agent_id": ["G1"],
            "start_date": pd.to_datetime(["2024-03-11"]),
            "end_date": pd.to_datetime(["2024-04-20"]),
        }
    )
    events = pd.DataFrame(
        {"account_id": ["A2"], "date": pd.to_datetime(["2024-03-20"]), "event": ["hardship_plan"]}
    )
    return {
        "accounts": accounts,
        "schedule": schedule,
        "payments": payments,
        "actions": actions,
        "agents": agents,
        "assignments": assignments,
        "events": events,
    }


def tiny_portfolio(data_end: str | None = "2024-04-30") -> Portfolio:
    """The book of :func:`tiny_tables` as a portfolio, for examples.

    Parameters
    ----------
    data_end : str, optional
        The last day of data (``meta['data_end']``); ``None`` leaves it unset.

    Returns
    -------
    Portfolio

    Examples
    --------
    >>> tiny_portfolio()
    Portfolio(accounts=2, schedule=6, payments=5, actions=2, agents=1, assignments=1, events=1)
    """
    meta = {} if data_end is None else {"data_end": data_end}
    return Portfolio(**tiny_tables(), meta=meta)
