"""The simulator's ground truth: latent traits, shocks, true probabilities, estimands.

Truth tables are written beside a simulated portfolio (``<dir>/truth/``) and are
**never** read by the pipeline; they exist to judge it.

Examples
--------
>>> import tempfile
>>> import pandas as pd
>>> t = Truth(borrowers=pd.DataFrame({"account_id": ["A1"], "archetype": ["victim"]}))
>>> with tempfile.TemporaryDirectory() as tmp:
...     _ = save_truth(t, tmp)
...     load_truth(tmp).borrowers["archetype"].tolist()
['victim']
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd

from recovery.errors import DataError

__all__ = ["Truth", "save_truth", "load_truth", "TRUTH_TABLES"]

TRUTH_TABLES = ("borrowers", "shocks", "account_months", "recovery_by_age", "recovery_curve")


@dataclass
class Truth:
    """Ground truth of a simulated book (DataFrames; any may be ``None``).

    Attributes
    ----------
    borrowers : DataFrame
        One row per account: ``account_id, customer_id, archetype, ability,
        willingness, fraud, promise_keep, reachability, contact_response,
        partial_share, recovery_share, settlement_share``.
    shocks : DataFrame
        One row per shock spell: ``account_id, shock_type, start_date, end_date``
        (NaT: still under way at ``data_end``), ``permanent``.
    account_months : DataFrame
        One row per account × month end from origination while open or charged off
        (and the month end of exit): ``account_id, month_end, status, dpd,
        balance, amount_overdue, debt_age_days, schedule_version, shock_active,
        ability_now, limitation_expired, p_payment_month, operation_multiplier,
        p_pay_true, p_cure_true``. ``p_pay_true`` (DPD > 0 or charged off):
        probability of non-reversed payments reaching the minimum of DESIGN.md §3 in
        the 30 days after the month end; ``p_cure_true`` (open, DPD > 0): probability
        that DPD is 0 through payments (no restructure, settlement or charge-off) at
        month end + 60 days. ``p_payment_month``: probability of any payment in the next
        month (the hazard); ``operation_multiplier``: the collection operation's odds
        multiplier in force.
    recovery_by_age : DataFrame
        The true recovery-by-debt-age estimand: ``view`` (charged_off /
        all_delinquent), ``age_band``, ``age_from_months``, ``age_to_months``,
        ``account_months``, ``balance``, ``collected``, ``recovery_share`` (collected /
        balance, each account-month's collections within ``horizon_months`` capped at
        its balance), ``payer_share`` (share with any payment), ``horizon_months``.
    recovery_curve : DataFrame
        The lifetime view of the seed's 80/20: charged-off debt's recoveries by debt
        age, ``debt_age_months``, ``accounts`` and ``balance`` (charge-off balance of the
        debts followed at that age), ``recovered``, ``recovery_rate`` (recovered /
        balance), ``cumulative_recovery_share`` (running sum: expected share of a
        charge-off balance recovered by that age) and ``share_of_lifetime``.
    extra : dict of DataFrame
        Truth tables of the collection operation (part 2), e.g. ``agents``,
        ``violations``, ``promises`` — saved and loaded like the others.
    meta : dict
        Seed, scenario name and parameters, data_end.
    """

    borrowers: pd.DataFrame | None = None
    shocks: pd.DataFrame | None = None
    account_months: pd.DataFrame | None = None
    recovery_by_age: pd.DataFrame | None = None
    recovery_curve: pd.DataFrame | None = None
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    def tables(self) -> dict[str, pd.DataFrame]:
        """The present tables (the four above, then ``extra``) as ``{name: DataFrame}``."""
        out = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("meta", "extra") and getattr(self, f.name) is not None
        }
        out.update({k: v for k, v in self.extra.items() if v is not None})
        return out

    def __repr__(self) -> str:
        parts = [f"{n}={len(df):,}" for n, df in self.tables().items()]
        return f"Truth({', '.join(parts)})"


def save_truth(truth: Truth, path: str | Path) -> Path:
    """Write truth tables as Parquet files (one per table) plus ``truth.json``.

    Each file is written atomically.

    Parameters
    ----------
    truth : Truth
    path : str or Path
        Directory (created if needed).

    Returns
    -------
    Path
        The directory.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     sorted(p.name for p in save_truth(Truth(shocks=pd.DataFrame({"a": [1]})), tmp).iterdir())
    ['shocks.parquet', 'truth.json']
    """
    from recovery.data.io import atomic_path, write_table

    directory = Path(path)
    directory.mkdir(parents=True, exist_ok=True)
    for name, df in truth.tables().items():
        write_table(df, directory / f"{name}.parquet")
    with atomic_path(directory / "truth.json") as tmp:
        tmp.write_text(json.dumps(truth.meta, indent=2, default=str), encoding="utf-8")
    return directory


def load_truth(path: str | Path) -> Truth:
    """Read truth tables written by :func:`save_truth`.

    Raises
    ------
    DataError
        The directory holds no truth table.

    Examples
    --------
    >>> from recovery.datasets import sample_path
    >>> truth = load_truth(sample_path() / "truth")
    >>> {"p_pay_true", "p_cure_true"} <= set(truth.account_months.columns)
    True
    """
    directory = Path(path)
    tables, extra = {}, {}
    for file in sorted(directory.glob("*.parquet")):
        name = file.name[: -len(".parquet")]
        (tables if name in TRUTH_TABLES else extra)[name] = pd.read_parquet(file)
    if not tables and not extra:
        raise DataError(f"no truth tables in {directory} (expected e.g. borrowers.parquet)")
    meta = {}
    if (directory / "truth.json").is_file():
        meta = json.loads((directory / "truth.json").read_text(encoding="utf-8"))
    return Truth(**tables, extra=extra, meta=meta)
