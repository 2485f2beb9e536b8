"""Point-in-time features of overdue accounts (DESIGN.md §3, "Point in time").

For a set of ``(account_id, as_of)`` pairs, :func:`build_features` returns one row per
pair with the account's aging, payment behaviour, contact behaviour (the 一户一档
ledger of ``actions``) and application features, each computed **only from rows known
on or before** ``as_of``:

- payments by posting date, with reversals counted only once their ``reversed_date``
  is on or before ``as_of`` (a payment reversed later still counts at ``as_of``);
- actions whose timestamp falls on or before the end of the ``as_of`` day;
- schedule versions whose ``effective_from`` is on or before ``as_of``;
- a promise to pay whose date (plus ``config.labels.promise_grace_days``) lies after
  ``as_of`` and that has not been paid yet is *pending*, never broken.

Every feature is described once, in :func:`feature_catalogue` (name, definition, unit,
source table, group); ``docs/features.md`` is generated from that table
(:func:`catalogue_markdown`) and a test checks they agree.

Implementation: events of each table are sorted by ``(account, day)`` and turned into
cumulative sums; window counts and sums for every pair are differences of those sums at
positions found with :func:`numpy.searchsorted` — no loop over accounts or days. Work is
per account, so a partition of accounts (``portfolio.subset(ids)``) gives exactly the
rows of the whole run for those accounts (DESIGN.md §4).

Examples
--------
>>> from recovery.timeline.features import feature_catalogue
>>> cat = feature_catalogue()
>>> cat.loc[cat["name"] == "days_since_last_payment", "unit"].item()
'days'
>>> sorted(cat["group"].unique())
['account', 'aging', 'contact', 'payment']
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError

__all__ = [
    "Feature",
    "feature_catalogue",
    "catalogue_markdown",
    "build_features",
    "iter_features",
    "write_features",
    "aging_features",
    "payment_features",
    "contact_features",
    "account_features",
    "snapshot_features",
    "point_in_time",
    "overdue_pairs",
    "is_overdue",
    "feature_names",
    "schedule_in_force",
    "PAYMENT_WINDOWS_DAYS",
    "CONTACT_WINDOWS_DAYS",
    "BUCKET_WINDOWS_MONTHS",
]

PAYMENT_WINDOWS_DAYS = (30, 90, 180)
CONTACT_WINDOWS_DAYS = (7, 30, 90)
BUCKET_WINDOWS_MONTHS = (3, 6, 12)
SNAPSHOT_PAYMENT_WINDOWS_MONTHS = (1, 3, 6)
REGULARITY_WINDOW_DAYS = 365
#: outcomes that mean the debtor was reached (a right-party contact)
#: Stated reasons that name a hardship (a shock to the debtor's ability to pay).
HARDSHIP_REASONS = ("job_loss", "illness", "business_failure", "market", "family")
RIGHT_PARTY_OUTCOMES = ("right_party_contact", "promise_to_pay", "refusal", "dispute", "hardship")
#: escalation stage of each action channel (0 = none): letter 1, visit 2, legal 3
ESCALATION_STAGES = {"letter": 1, "visit": 2, "legal_notice": 3, "lawsuit": 3}
#: columns of ``accounts`` used as features (protected attributes only on request)
ACCOUNT_COLUMNS = (
    "product",
    "principal",
    "term_months",
    "interest_rate",
    "region",
    "has_guarantor",
    "has_collateral",
    "income_band",
    "employment",
    "bureau_score",
    "age_band",
    "gender",
)
#: units stored as float32 (exact for day and count values; halves the matrix)
_FLOAT32_UNITS = ("days", "months", "count", "share", "ratio", "stage")
_NUMERIC_ACCOUNT_COLUMNS = ("principal", "term_months", "interest_rate", "bureau_score")
_DAYS_PER_MONTH = 365.25 / 12

# day numbers: days since 1970-01-01 plus an offset, so every date of interest is >= 0
# and (account code, day) packs into one sortable int64 key
_OFFSET = 200_000
_SPAN = np.int64(1 << 20)


# --------------------------------------------------------------------------- catalogue
@dataclass(frozen=True)
class Feature:
    """One entry of the feature catalogue.

    Attributes
    ----------
    name : str
        Column name in the feature matrix.
    group : str
        ``aging``, ``payment``, ``contact`` or ``account``.
    definition : str
        What the value means, in words a collector understands.
    unit : str
        ``days``, ``months``, ``currency``, ``count``, ``share`` (0–1), ``ratio``,
        ``category``, ``flag`` or ``stage``.
    source : str
        Table(s) the value is computed from.
    modes : str
        ``ledger`` (event tables, :func:`build_features`), ``snapshots``
        (:func:`snapshot_features`) or ``ledger, snapshots``.
    """

    name: str
    group: str
    definition: str
    unit: str
    source: str
    modes: str = "ledger"


def _catalogue_entries(config: Config) -> list[Feature]:
    F = Feature
    both = "ledger, snapshots"
    out = [
        # aging -------------------------------------------------------------------
        F(
            "dpd",
            "aging",
            "days past due at as_of (oldest unpaid amount first)",
            "days",
            "schedule, payments",
            both,
        ),
        F(
            "bucket",
            "aging",
            "aging bucket at as_of (M0 … M7+; empty unless open)",
            "category",
            "schedule, payments",
            both,
        ),
        F(
            "status",
            "aging",
            "account status at as_of (open, charged_off, …)",
            "category",
            "schedule, payments, events",
            both,
        ),
        F(
            "balance",
            "aging",
            "outstanding principal at as_of",
            "currency",
            "schedule, payments",
            both,
        ),
        F(
            "amount_overdue",
            "aging",
            "amount past due at as_of",
            "currency",
            "schedule, payments",
            both,
        ),
        F(
            "debt_age_days",
            "aging",
            "days since the current delinquency episode started",
            "days",
            "schedule, payments",
            both,
        ),
        F(
            "months_since_first_delinquency",
            "aging",
            "months since the first delinquency episode of the loan started",
            "months",
            "schedule, payments",
            both,
        ),
        F(
            "worst_dpd",
            "aging",
            "highest DPD reached up to as_of",
            "days",
            "schedule, payments",
            both,
        ),
        F(
            "past_cures",
            "aging",
            "delinquency episodes ended by a payment cure up to as_of (ledger: any day; "
            "snapshots: month ends)",
            "count",
            "schedule, payments",
            both,
        ),
        F(
            "months_since_charge_off",
            "aging",
            "months since charge-off (empty if not charged off)",
            "months",
            "schedule, payments, events",
            both,
        ),
        F(
            "share_principal_repaid",
            "aging",
            "1 − balance / principal at as_of",
            "share",
            "accounts, schedule, payments",
            "ledger",
        ),
        F(
            "months_on_book",
            "aging",
            "whole calendar months since origination",
            "months",
            "accounts",
            both,
        ),
        F(
            "installments_remaining",
            "aging",
            "installments of the schedule version in force due after as_of",
            "count",
            "schedule",
            "ledger",
        ),
        F(
            "installment_amount",
            "aging",
            "median installment of the schedule version in force at as_of",
            "currency",
            "schedule",
            "ledger",
        ),
    ]
    for months in BUCKET_WINDOWS_MONTHS:
        for name in config.aging.bucket_names:
            out.append(
                F(
                    f"months_in_{_slug(name)}_{months}m",
                    "aging",
                    f"month ends in bucket {name} among the last {months} month ends "
                    "on or before as_of",
                    "count",
                    "schedule, payments",
                    both,
                )
            )
    # payment ---------------------------------------------------------------------
    out += [
        F(
            "days_since_last_payment",
            "payment",
            "days since the last payment not reversed by as_of (empty if none)",
            "days",
            "payments",
        ),
        F(
            "paid_to_due_ratio",
            "payment",
            "payments to date (net of reversals) / amount fallen due to date",
            "ratio",
            "schedule, payments",
        ),
        F(
            "partial_payment_share",
            "payment",
            "share of payments to date smaller than the installment in force",
            "share",
            "schedule, payments",
        ),
        F(
            "payment_day_std_days",
            "payment",
            f"standard deviation of the day of month of payments in the last "
            f"{REGULARITY_WINDOW_DAYS} days (payment-day regularity; ≥ 2 payments)",
            "days",
            "payments",
        ),
    ]
    for days in PAYMENT_WINDOWS_DAYS:
        out.append(
            F(
                f"paid_amount_{days}d",
                "payment",
                f"amount paid in the last {days} days (as_of included)",
                "currency",
                "payments",
            )
        )
        out.append(
            F(
                f"payment_count_{days}d",
                "payment",
                f"payments received in the last {days} days",
                "count",
                "payments",
            )
        )
    # snapshot-only payment features
    out.append(
        F(
            "months_since_last_payment",
            "payment",
            "month ends since the last month with a payment (0 = paid this month)",
            "months",
            "snapshots",
            "snapshots",
        )
    )
    for months in SNAPSHOT_PAYMENT_WINDOWS_MONTHS:
        out.append(
            F(
                f"paid_amount_{months}m",
                "payment",
                f"amount paid in the last {months} months (paid_in_month summed)",
                "currency",
                "snapshots",
                "snapshots",
            )
        )
        out.append(
            F(
                f"months_with_payment_{months}m",
                "payment",
                f"months with a payment among the last {months}",
                "count",
                "snapshots",
                "snapshots",
            )
        )
    # contact ---------------------------------------------------------------------
    for days in CONTACT_WINDOWS_DAYS:
        out.append(
            F(
                f"attempts_{days}d",
                "contact",
                f"collection actions in the last {days} days, all channels",
                "count",
                "actions",
            )
        )
        out.append(
            F(
                f"right_party_contacts_{days}d",
                "contact",
                f"actions in the last {days} days that reached the debtor "
                "(right-party contact, promise, refusal, dispute, hardship)",
                "count",
                "actions",
            )
        )
        for channel in config.categories.action_channels:
            out.append(
                F(
                    f"attempts_{channel}_{days}d",
                    "contact",
                    f"{channel} actions in the last {days} days",
                    "count",
                    "actions",
                )
            )
            out.append(
                F(
                    f"right_party_contacts_{channel}_{days}d",
                    "contact",
                    f"{channel} actions in the last {days} days that reached the debtor",
                    "count",
                    "actions",
                )
            )
    out += [
        F(
            "contact_rate_90d",
            "contact",
            "right-party contacts / attempts in the last 90 days (empty if no attempt)",
            "share",
            "actions",
        ),
        F(
            "days_since_last_action",
            "contact",
            "days since the last collection action",
            "days",
            "actions",
        ),
        F(
            "days_since_last_contact",
            "contact",
            "days since the last right-party contact",
            "days",
            "actions",
        ),
        F("last_outcome", "contact", "outcome of the last action", "category", "actions"),
        F(
            "last_reason",
            "contact",
            "last stated reason for non-payment (not 'unknown')",
            "category",
            "actions",
        ),
        F(
            "last_attitude",
            "contact",
            "last attitude recorded by a collector (not 'unknown')",
            "category",
            "actions",
        ),
        F(
            "escalation_stage",
            "contact",
            "furthest escalation reached: 0 none, 1 letter, 2 visit, 3 legal (notice, lawsuit)",
            "stage",
            "actions",
        ),
        F(
            "guarantor_contacted",
            "contact",
            "a guarantor was contacted up to as_of",
            "flag",
            "actions",
        ),
        F(
            "outsourced",
            "contact",
            "the account was placed with an agency up to as_of",
            "flag",
            "actions",
        ),
        F("promises_made", "contact", "promises to pay made up to as_of", "count", "actions"),
        F(
            "promises_made_90d",
            "contact",
            "promises to pay made in the last 90 days",
            "count",
            "actions",
        ),
        F(
            "promises_kept",
            "contact",
            "promises whose amount arrived (net of reversals) by the promised date + grace",
            "count",
            "actions, payments",
        ),
        F(
            "promises_broken",
            "contact",
            "promises past their date + grace and not kept",
            "count",
            "actions, payments",
        ),
        F(
            "promises_broken_90d",
            "contact",
            "promises whose date + grace fell in the last 90 days and were not kept",
            "count",
            "actions, payments",
        ),
        F(
            "promises_pending",
            "contact",
            "promises neither kept nor yet due (date + grace after as_of)",
            "count",
            "actions, payments",
        ),
        F(
            "promise_keep_rate",
            "contact",
            "kept / (kept + broken) (empty if none settled)",
            "share",
            "actions, payments",
        ),
        F(
            "pending_promise_amount",
            "contact",
            "amount of the pending promises",
            "currency",
            "actions, payments",
        ),
        F(
            "days_since_last_promise",
            "contact",
            "days since the last promise to pay",
            "days",
            "actions",
        ),
        # what the debtor said and how collectors saw them, over the whole history
        F(
            "hardship_reasons_90d",
            "contact",
            "stated reasons in the last 90 days that were a hardship "
            "(job loss, illness, business failure, market, family)",
            "count",
            "actions",
        ),
        F(
            "hardship_reason_share_90d",
            "contact",
            "hardship reasons / stated reasons (not 'unknown') in the last 90 days (empty if none)",
            "share",
            "actions",
        ),
        F(
            "days_since_hardship_reason",
            "contact",
            "days since the debtor last gave a hardship as the reason",
            "days",
            "actions",
        ),
        F(
            "hardship_claims_90d",
            "contact",
            "hardship claims (outcome) in the last 90 days",
            "count",
            "actions",
        ),
        F(
            "reasons_stated",
            "contact",
            "stated reasons recorded up to as_of (not 'unknown')",
            "count",
            "actions",
        ),
        F(
            "reason_cash_flow_share",
            "contact",
            "share of the stated reasons to date that were cash flow (empty if none)",
            "share",
            "actions",
        ),
        F(
            "reason_unknown_share",
            "contact",
            "share of conversations to date in which no reason was given (empty if none)",
            "share",
            "actions",
        ),
        F(
            "attitudes_recorded",
            "contact",
            "attitudes recorded by collectors up to as_of (not 'unknown')",
            "count",
            "actions",
        ),
    ]
    for attitude in config.categories.attitudes:
        if attitude == "unknown":
            continue
        out.append(
            F(
                f"attitude_{attitude}_share",
                "contact",
                f"share of the attitudes recorded to date that were '{attitude}' (empty if none)",
                "share",
                "actions",
            )
        )
    # account ---------------------------------------------------------------------
    descriptions = {
        "product": ("product line", "category"),
        "principal": ("amount lent", "currency"),
        "term_months": ("contractual term", "months"),
        "interest_rate": ("annual nominal interest rate", "ratio"),
        "region": ("branch or region", "category"),
        "has_guarantor": ("a guarantor signed", "flag"),
        "has_collateral": ("collateral pledged", "flag"),
        "income_band": ("application income band", "category"),
        "employment": ("application employment type", "category"),
        "bureau_score": ("application bureau score", "score"),
        "age_band": ("PROTECTED — used only with include_protected=True", "category"),
        "gender": ("PROTECTED — used only with include_protected=True", "category"),
    }
    for column in ACCOUNT_COLUMNS:
        text, unit = descriptions[column]
        out.append(F(column, "account", text, unit, "accounts", both))
    return out


def _slug(bucket: str) -> str:
    return bucket.lower().replace("+", "_plus").replace(" ", "_")


def feature_catalogue(config: Config | None = None) -> pd.DataFrame:
    """The feature catalogue: one row per feature, the single place features are defined.

    Parameters
    ----------
    config : Config, optional
        Bucket names and action channels expand into one feature each.

    Returns
    -------
    pandas.DataFrame
        Columns ``name, group, definition, unit, source, modes``.

    Examples
    --------
    >>> cat = feature_catalogue()
    >>> cat.set_index("name").loc["months_in_m2_3m", "unit"]
    'count'
    >>> cat["name"].is_unique
    True
    """
    config = config or Config()
    rows = [f.__dict__ for f in _catalogue_entries(config)]
    return pd.DataFrame(rows, columns=["name", "group", "definition", "unit", "source", "modes"])


def catalogue_markdown(config: Config | None = None) -> str:
    """The catalogue as a Markdown table (the one in ``docs/features.md``).

    Examples
    --------
    >>> print(catalogue_markdown().splitlines()[0])
    | name | group | definition | unit | source | modes |
    """
    cat = feature_catalogue(config)
    lines = ["| " + " | ".join(cat.columns) + " |", "|" + "---|" * len(cat.columns)]
    for row in cat.itertuples(index=False):
        lines.append(
            "| "
            + " | ".join(
                f"`{row[0]}`" if i == 0 else str(v).replace("|", "/") for i, v in enumerate(row)
            )
            + " |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- helpers
def _day_numbers(values: Any) -> np.ndarray:
    """Day numbers (int64) of dates/timestamps; NaT becomes -1."""
    arr = getattr(values, "values", values)
    if isinstance(arr, pd.DatetimeIndex | pd.arrays.DatetimeArray):
        arr = arr.to_numpy()
    if isinstance(arr, np.ndarray) and arr.dtype.kind == "M":
        arr = arr.astype("datetime64[D]")
    else:
        arr = pd.to_datetime(pd.Series(values)).to_numpy(dtype="datetime64[D]")
    out = arr.astype("int64") + _OFFSET
    out[np.isnat(arr)] = -1
    return out


def _dates(days: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex((days - _OFFSET).astype("datetime64[D]"))


class _Events:
    """Events of one table sorted by (account code, day), with cumulative sums."""

    def __init__(self, codes: np.ndarray, days: np.ndarray, **values: np.ndarray):
        order = np.lexsort((days, codes))
        self.codes = codes[order]
        self.days = days[order]
        self.keys = self.codes * _SPAN + self.days
        self.values = {k: np.asarray(v)[order] for k, v in values.items()}
        self._cum: dict[str, np.ndarray] = {}
        self._bounds: dict[tuple, tuple] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def cum(self, name: str) -> np.ndarray:
        if name not in self._cum:
            v = self.values[name].astype("float64")
            self._cum[name] = np.concatenate(([0.0], np.cumsum(v)))
        return self._cum[name]

    def upto(self, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Number of events with key <= (code, day): index one past the last such."""
        return np.searchsorted(self.keys, codes * _SPAN + days, side="right")

    def start(self, codes: np.ndarray) -> np.ndarray:
        """Index of the account's first event."""
        return np.searchsorted(self.keys, codes * _SPAN, side="left")

    def bounds(self, codes: np.ndarray, days: np.ndarray, length: int | None):
        """Positions (lo, hi) of the events in (day - length, day]; cached per query."""
        key = (id(codes), id(days), length)
        hit = self._bounds.get(key)
        if hit is None:
            hi = self.upto(codes, days)
            lo = self.start(codes) if length is None else self.upto(codes, days - length)
            hit = self._bounds[key] = (lo, hi, codes, days)  # keep the query arrays alive
        return hit[0], hit[1]

    def window(self, name: str | None, codes: np.ndarray, days: np.ndarray, length: int | None):
        """Sum (or count if name is None) over days in (day - length, day]; None = to date."""
        lo, hi = self.bounds(codes, days, length)
        if name is None:
            return (hi - lo).astype("float64")
        c = self.cum(name)
        return c[hi] - c[lo]

    def last(self, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Index of the account's last event on or before day, -1 if none."""
        if not len(self.keys):
            return np.full(len(codes), -1, dtype="int64")
        idx = self.bounds(codes, days, None)[1] - 1
        ok = (idx >= 0) & (self.codes[np.maximum(idx, 0)] == codes)
        return np.where(ok, idx, -1)

    def since(self, codes: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Days since the account's last event on or before day (NaN if none)."""
        idx = self.last(codes, days)
        if not len(self.keys):
            return np.full(len(codes), np.nan)
        return np.where(idx >= 0, days - self.days[np.maximum(idx, 0)], np.nan)


def _take(values: np.ndarray, idx: np.ndarray, fill: Any = np.nan) -> np.ndarray:
    out = values[np.maximum(idx, 0)]
    if out.dtype.kind in "iub" and fill is np.nan:
        out = out.astype("float64")
    elif out.dtype.kind not in "fO" and fill is None:
        out = out.astype(object)
    out = out.copy()
    out[idx < 0] = fill
    return out


@dataclass
class _Pairs:
    """The (account, as_of) pairs with integer account codes and day numbers."""

    frame: pd.DataFrame  # account_id, as_of (normalized), in output order
    ids: pd.Index  # account ids, code = position
    codes: np.ndarray
    days: np.ndarray

    @classmethod
    def of(cls, pairs: pd.DataFrame) -> _Pairs:
        frame = pd.DataFrame(
            {
                "account_id": pairs["account_id"].astype(str).to_numpy(),
                "as_of": pd.to_datetime(pairs["as_of"]).dt.normalize().to_numpy(),
            }
        )
        codes, ids = pd.factorize(frame["account_id"], sort=True)
        return cls(frame, pd.Index(ids), codes.astype("int64"), _day_numbers(frame["as_of"]))

    def code(self, account_ids: pd.Series) -> np.ndarray:
        """Codes of account ids; -1 for accounts without a pair."""
        return self.ids.get_indexer(account_ids.astype(str)).astype("int64")


class _Out(dict):
    """Feature columns collected as arrays; one DataFrame is built at the end."""

    def __init__(self, frame: pd.DataFrame):
        super().__init__(account_id=frame["account_id"].to_numpy(), as_of=frame["as_of"].to_numpy())

    def __setitem__(self, key: str, value: Any) -> None:
        if np.ndim(value) == 0:  # a constant column
            n = len(next(iter(self.values()))) if len(self) else 0
            value = np.full(n, value, dtype=float if value is None or np.isnan(value) else None)
        super().__setitem__(key, value)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(dict(self))

    @staticmethod
    def concat(parts: list[_Out], order: np.ndarray | None = None) -> _Out:
        """Row-wise concatenation (then ``take(order)``) of parts with the same columns."""
        out = _Out.__new__(_Out)
        for column in parts[0]:
            pieces = [part[column] for part in parts]
            if isinstance(pieces[0], pd.Categorical):
                codes = np.concatenate([np.asarray(c.codes) for c in pieces])
                values = pd.Categorical.from_codes(
                    codes if order is None else codes[order], dtype=pieces[0].dtype
                )
            else:
                values = np.concatenate([np.asarray(v) for v in pieces])
                values = values if order is None else values[order]
            dict.__setitem__(out, column, values)
        return out


def _as_pairs(as_of: Any) -> pd.DataFrame | list[pd.Timestamp]:
    if isinstance(as_of, pd.DataFrame):
        missing = {"account_id", "as_of"} - set(as_of.columns)
        if missing:
            raise DataError(
                f"the pairs table needs columns account_id and as_of; missing {sorted(missing)}"
            )
        return as_of
    if isinstance(as_of, (str, pd.Timestamp, np.datetime64)) or not isinstance(
        as_of, (Sequence, pd.Index, np.ndarray, pd.Series)
    ):
        as_of = [as_of]
    try:
        dates = sorted({pd.Timestamp(d).normalize() for d in as_of})
    except (ValueError, TypeError) as exc:
        raise DataError(f"as_of must be dates (YYYY-MM-DD) or a pairs table: {exc}") from None
    if not dates:
        raise DataError("as_of is empty: give at least one date")
    return dates


def _require(portfolio: Portfolio, *names: str) -> None:
    missing = [n for n in names if getattr(portfolio, n) is None]
    if missing:
        raise DataError(
            f"features need the table(s) {missing}; for a monthly performance table alone "
            "use recovery.timeline.features.snapshot_features"
        )


# ------------------------------------------------------------------- point in time
def point_in_time(portfolio: Portfolio, as_of: Any) -> Portfolio:
    """The portfolio as it was known at the end of ``as_of``.

    Drops payments posted after ``as_of`` (and forgets reversals dated after it),
    actions after the end of the ``as_of`` day, schedule versions effective after it,
    events, assignments and snapshots dated after it; ``meta['data_end']`` becomes
    ``as_of``. Features of ``as_of`` computed on the result equal those computed on
    the whole portfolio (the leakage test).

    Parameters
    ----------
    portfolio : Portfolio
    as_of : date-like
        Last day known (inclusive).

    Returns
    -------
    Portfolio

    Examples
    --------
    >>> import pandas as pd
    >>> pays = pd.DataFrame({"account_id": ["A", "A"], "amount": [5.0, 7.0],
    ...     "payment_date": pd.to_datetime(["2024-01-05", "2024-02-05"]),
    ...     "reversed_date": pd.to_datetime(["2024-03-01", None])})
    >>> known = point_in_time(Portfolio(payments=pays), "2024-01-31")
    >>> known.payments[["amount", "reversed_date"]].values.tolist()
    [[5.0, NaT]]
    """
    day = pd.Timestamp(as_of).normalize()
    out = portfolio.copy()
    if out.payments is not None:
        pays = out.payments[pd.to_datetime(out.payments["payment_date"]) <= day].copy()
        if "reversed_date" in pays:
            rev = pd.to_datetime(pays["reversed_date"])
            pays["reversed_date"] = rev.where(rev <= day)
        out.payments = pays.reset_index(drop=True)
    if out.actions is not None:
        keep = pd.to_datetime(out.actions["ts"]) < day + pd.Timedelta(days=1)
        out.actions = out.actions[keep].reset_index(drop=True)
    if out.schedule is not None and "effective_from" in out.schedule:
        eff = pd.to_datetime(out.schedule["effective_from"])
        out.schedule = out.schedule[eff.isna() | (eff <= day)].reset_index(drop=True)
    for name, col in (
        ("events", "date"),
        ("snapshots", "month_end"),
        ("assignments", "start_date"),
    ):
        df = getattr(out, name)
        if df is not None:
            setattr(out, name, df[pd.to_datetime(df[col]) <= day].reset_index(drop=True))
    if out.assignments is not None:
        end = pd.to_datetime(out.assignments["end_date"])
        out.assignments["end_date"] = end.where(end <= day)
    if out.accounts is not None:
        orig = pd.to_datetime(out.accounts["origination_date"])
        out.accounts = out.accounts[orig <= day].reset_index(drop=True)
    out.meta["data_end"] = day.strftime("%Y-%m-%d")
    return out


# ------------------------------------------------------------------- schedule helpers
def _schedule_frame(schedule: pd.DataFrame) -> pd.DataFrame:
    sched = pd.DataFrame(
        {
            "account_id": schedule["account_id"].astype(str).to_numpy(),
            "due_date": pd.to_datetime(schedule["due_date"]).to_numpy(),
            "amount_due": schedule["amount_due"].astype("float64").to_numpy(),
            "version": (
                schedule["schedule_version"].fillna(1).astype("int64").to_numpy()
                if "schedule_version" in schedule
                else np.ones(len(schedule), dtype="int64")
            ),
        }
    )
    if "effective_from" in schedule:
        sched["effective_from"] = pd.to_datetime(schedule["effective_from"]).to_numpy()
    else:
        sched["effective_from"] = pd.NaT
    return sched


def schedule_in_force(schedule: pd.DataFrame, account_ids: pd.Series, dates: Any) -> pd.DataFrame:
    """Schedule version in force, installments remaining and installment amount.

    Parameters
    ----------
    schedule : pandas.DataFrame
        The ``schedule`` table.
    account_ids : pandas.Series
        Account of each query row.
    dates : array-like of dates
        Date of each query row.

    Returns
    -------
    pandas.DataFrame
        One row per query row (same order): ``schedule_version`` (latest version whose
        ``effective_from`` is empty or on or before the date), ``installments_remaining``
        (count, due after the date), ``installment_amount`` (median ``amount_due`` of
        that version, currency). Accounts without a schedule get NA.

    Examples
    --------
    >>> s = pd.DataFrame({"account_id": ["A"] * 4, "installment_no": [1, 2, 1, 2],
    ...     "due_date": pd.to_datetime(["2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01"]),
    ...     "amount_due": [100.0, 100.0, 60.0, 60.0], "schedule_version": [1, 1, 2, 2],
    ...     "effective_from": pd.to_datetime([None, None, "2024-03-15", "2024-03-15"])})
    >>> schedule_in_force(s, pd.Series(["A", "A"]), pd.to_datetime(["2024-02-15", "2024-03-20"]))
       schedule_version  installments_remaining  installment_amount
    0               1.0                     1.0               100.0
    1               2.0                     2.0                60.0
    """
    sched = _schedule_frame(schedule)
    qids = pd.Series(account_ids).astype(str).reset_index(drop=True)
    codes, ids = pd.factorize(pd.concat([qids, sched["account_id"]]), sort=False)
    qcode = codes[: len(qids)].astype("int64")
    scode = codes[len(qids) :].astype("int64")
    qday = _day_numbers(dates)
    versions = (
        sched.groupby(["account_id", "version"], sort=False)
        .agg(effective_from=("effective_from", "min"), installment_amount=("amount_due", "median"))
        .reset_index()
    )
    vcode = pd.Index(ids).get_indexer(versions["account_id"]).astype("int64")
    vday = _day_numbers(versions["effective_from"])
    vday = np.where(vday < 0, 0, vday)  # the original version is in force from the start
    vnum = versions["version"].to_numpy()
    # latest version (by effective day, then number) with effective day <= query day
    order = np.lexsort((vnum, vday, vcode))
    vkeys = vcode[order] * _SPAN + vday[order]
    pos = np.searchsorted(vkeys, qcode * _SPAN + qday, side="right") - 1
    ok = (pos >= 0) & (vcode[order][np.maximum(pos, 0)] == qcode)
    pick = order[np.maximum(pos, 0)]
    version = np.where(ok, vnum[pick], -1)
    amount = np.where(ok, versions["installment_amount"].to_numpy()[pick], np.nan)
    # installments of that version due after the query day
    max_v = np.int64(max(int(sched["version"].max()) if len(sched) else 1, 1) + 1)
    skey = (scode * max_v + sched["version"].to_numpy()) * _SPAN + _day_numbers(sched["due_date"])
    skey.sort()
    base = (qcode * max_v + np.maximum(version, 0)) * _SPAN
    remaining = np.searchsorted(skey, base + _SPAN, side="left") - np.searchsorted(
        skey, base + qday, side="right"
    )
    return pd.DataFrame(
        {
            "schedule_version": np.where(ok, version, np.nan),
            "installments_remaining": np.where(ok, remaining, np.nan),
            "installment_amount": amount,
        }
    )


# ------------------------------------------------------------------- feature groups
def _reversal_pending(payments: pd.DataFrame | None, pairs: pd.DataFrame) -> np.ndarray:
    """Pairs with a payment posted on or before as_of and reversed after it."""
    late = np.zeros(len(pairs), dtype=bool)
    if payments is None or "reversed_date" not in payments:
        return late
    rev = pd.to_datetime(payments["reversed_date"])
    has = rev.notna().to_numpy()
    if not has.any():
        return late
    reversed_rows = pd.DataFrame(
        {
            "account_id": payments["account_id"].astype(str).to_numpy()[has],
            "posted": pd.to_datetime(payments["payment_date"]).to_numpy()[has],
            "reversed": rev.to_numpy()[has],
        }
    )
    # reversed payments are few: pair each with its account's as_of dates
    q = pd.DataFrame(
        {
            "account_id": pairs["account_id"].to_numpy(),
            "row": np.arange(len(pairs)),
            "as_of": pairs["as_of"].to_numpy(),
        }
    )
    m = q.merge(reversed_rows, on="account_id")
    hit = (m["posted"] <= m["as_of"]) & (m["reversed"] > m["as_of"])
    late[m.loc[hit, "row"].to_numpy()] = True
    return late


_KNOWN_BY = {  # table: (date column, rows known at the end of day a)
    "accounts": "origination_date",
    "schedule": "effective_from",
    "payments": "payment_date",
    "actions": "ts",
    "events": "date",
    "assignments": "start_date",
    "snapshots": "month_end",
}


def _point_in_time_views(
    portfolio: Portfolio, pairs: pd.DataFrame
) -> tuple[Portfolio, pd.DataFrame]:
    """One pseudo-account per pair: its account as known at the pair's as_of.

    The vectorised counterpart of :func:`point_in_time` for many (account, as_of)
    pairs at once: each table's rows of the pairs' accounts are joined to the pairs,
    rows not yet known at as_of are dropped, reversals dated after as_of are
    forgotten, and ``account_id`` becomes ``"<account>@<as_of>"``.
    """
    pairs = pairs[["account_id", "as_of"]].reset_index(drop=True)
    view = pairs["account_id"].astype(str) + "@" + pairs["as_of"].dt.strftime("%Y-%m-%d")
    key = pd.DataFrame(
        {"account_id": pairs["account_id"].astype(str), "_view": view, "_as_of": pairs["as_of"]}
    )
    ids = set(key["account_id"])
    tables = {}
    for name, column in _KNOWN_BY.items():
        df = getattr(portfolio, name)
        if df is None:
            continue
        df = df[df["account_id"].astype(str).isin(ids)]
        df = df.assign(account_id=df["account_id"].astype(str)).merge(key, on="account_id")
        a = df["_as_of"]
        if column not in df:
            known = np.ones(len(df), dtype=bool)
        elif name == "actions":
            known = pd.to_datetime(df[column]) < a + pd.Timedelta(days=1)
        elif name == "schedule":
            eff = pd.to_datetime(df[column])
            known = eff.isna() | (eff <= a)
        else:
            known = pd.to_datetime(df[column]) <= a
        df = df[np.asarray(known)].copy()
        for later in ("reversed_date", "end_date"):
            if later in df:
                d = pd.to_datetime(df[later])
                df[later] = d.where(d <= df["_as_of"])
        df["account_id"] = df["_view"]
        tables[name] = df.drop(columns=["_view", "_as_of"]).reset_index(drop=True)
    views = Portfolio(**tables, agents=portfolio.agents, meta=dict(portfolio.meta))
    return views, pd.DataFrame({"account_id": view, "as_of": pairs["as_of"]})


def _known_at_as_of(
    core, portfolio: Portfolio, pairs: pd.DataFrame, config: Config, **kwargs
) -> pd.DataFrame:
    """Run ``core`` so that reversals dated after as_of are not yet known.

    The vectorised cores treat every payment with a ``reversed_date`` as reversed.
    That is right for a pair unless one of the account's payments was posted on or
    before as_of and reversed after it; those few pairs are computed together on
    point-in-time views of their accounts (:func:`_point_in_time_views`).
    """
    pairs = pairs[["account_id", "as_of"]].reset_index(drop=True).copy()
    pairs["account_id"] = pairs["account_id"].astype(str)
    pairs["as_of"] = pd.to_datetime(pairs["as_of"]).dt.normalize()
    late = _reversal_pending(portfolio.payments, pairs)
    if not late.any():
        return core(portfolio, pairs, config, **kwargs)
    parts, order = [], []
    if (~late).any():
        parts.append(core(portfolio, pairs[~late].reset_index(drop=True), config, **kwargs))
        order.append(np.flatnonzero(~late))
    # precomputed tables are recomputed on the views; flags are passed on
    extra = {k: (None if isinstance(v, pd.DataFrame) else v) for k, v in kwargs.items()}
    views, view_pairs = _point_in_time_views(portfolio, pairs[late])
    done = core(views, view_pairs, config, **extra)
    done["account_id"] = pairs.loc[late, "account_id"].to_numpy()
    parts.append(done)
    order.append(np.flatnonzero(late))
    return _Out.concat(parts, np.argsort(np.concatenate(order), kind="stable"))


def payment_features(
    portfolio: Portfolio, pairs: pd.DataFrame, config: Config | None = None
) -> pd.DataFrame:
    """Payment behaviour of each (account_id, as_of) pair.

    Uses payments posted on or before ``as_of`` whose reversal (if any) is dated after
    ``as_of``. ``paid_to_due_ratio`` needs the aging columns and is added by
    :func:`aging_features`.

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``payments`` (``schedule`` for the partial-payment share).
    pairs : pandas.DataFrame
        Columns ``account_id``, ``as_of``.
    config : Config, optional

    Returns
    -------
    pandas.DataFrame
        One row per pair, in order: ``account_id, as_of`` and the payment features of
        :func:`feature_catalogue` (group ``payment``, mode ``ledger``) except
        ``paid_to_due_ratio``.

    Examples
    --------
    >>> pays = pd.DataFrame({"account_id": ["A", "A", "A"], "amount": [100.0, 50.0, 80.0],
    ...     "payment_date": pd.to_datetime(["2024-01-10", "2024-02-10", "2024-03-10"]),
    ...     "channel": "cash"})
    >>> f = payment_features(Portfolio(payments=pays),
    ...     pd.DataFrame({"account_id": ["A"], "as_of": pd.to_datetime(["2024-02-29"])}))
    >>> f[["days_since_last_payment", "paid_amount_30d", "payment_count_90d"]]
       days_since_last_payment  paid_amount_30d  payment_count_90d
    0                     19.0             50.0                2.0
    """
    config = config or Config()
    _require(portfolio, "payments")
    return _known_at_as_of(_payment_core, portfolio, pairs, config).frame()


def _payment_core(portfolio: Portfolio, pairs: pd.DataFrame, config: Config) -> _Out:
    p = _Pairs.of(pairs)
    out = _Out(p.frame)
    ev, valid = _valid_payments(portfolio, p)
    out["days_since_last_payment"] = ev.since(p.codes, p.days)
    for days in PAYMENT_WINDOWS_DAYS:
        out[f"paid_amount_{days}d"] = ev.window("amount", p.codes, p.days, days)
        out[f"payment_count_{days}d"] = ev.window(None, p.codes, p.days, days)
    count = ev.window(None, p.codes, p.days, None)
    if portfolio.schedule is not None and len(valid):
        inst = schedule_in_force(portfolio.schedule, valid["account_id"], valid["payment_date"])
        tol = config.aging.tolerance
        partial = valid["amount"].to_numpy() < inst["installment_amount"].to_numpy() - tol
        ev2 = _Events(valid["code"].to_numpy(), valid["day"].to_numpy(), partial=partial)
        partial_count = ev2.window("partial", p.codes, p.days, None)
        out["partial_payment_share"] = np.where(
            count > 0, partial_count / np.maximum(count, 1), np.nan
        )
    else:
        out["partial_payment_share"] = np.nan
    n = ev.window(None, p.codes, p.days, REGULARITY_WINDOW_DAYS)
    s1 = ev.window("dom", p.codes, p.days, REGULARITY_WINDOW_DAYS)
    s2 = ev.window("dom2", p.codes, p.days, REGULARITY_WINDOW_DAYS)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (s2 - s1 * s1 / n) / (n - 1)
    out["payment_day_std_days"] = np.where(n >= 2, np.sqrt(np.maximum(var, 0.0)), np.nan)
    return out


def _valid_payments(portfolio: Portfolio, p: _Pairs) -> tuple[_Events, pd.DataFrame]:
    """Payments of the pairs' accounts that count (no reversal recorded)."""
    pays = portfolio.payments
    code = p.code(pays["account_id"])
    keep = code >= 0
    if "reversed_date" in pays:
        keep &= pd.to_datetime(pays["reversed_date"]).isna().to_numpy()
    valid = pd.DataFrame(
        {
            "account_id": pays["account_id"].astype(str).to_numpy()[keep],
            "payment_date": pd.to_datetime(pays["payment_date"]).to_numpy()[keep],
            "amount": pays["amount"].astype("float64").to_numpy()[keep],
            "code": code[keep],
        }
    )
    valid["day"] = _day_numbers(valid["payment_date"])
    dom = valid["payment_date"].dt.day.to_numpy().astype("float64")
    ev = _Events(
        valid["code"].to_numpy(),
        valid["day"].to_numpy(),
        amount=valid["amount"].to_numpy(),
        dom=dom,
        dom2=dom * dom,
    )
    return ev, valid


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
    return _known_at_as_of(_contact_core, portfolio, pairs, config).frame()


def _contact_core(portfolio: Portfolio, pairs: pd.DataFrame, config: Config) -> _Out:
    p = _Pairs.of(pairs)
    out = _Out(p.frame)
    acts = portfolio.actions
    if acts is None:
        acts = pd.DataFrame(columns=["account_id", "ts", "channel", "outcome"])
    code = p.code(acts["account_id"]) if len(acts) else np.empty(0, dtype="int64")
    acts = acts[code >= 0]
    code = code[code >= 0]
    day = _day_numbers(pd.to_datetime(acts["ts"]).dt.normalize()) if len(acts) else code
    channel = acts["channel"].astype(str).to_numpy()
    outcome = acts["outcome"].astype(str).to_numpy()
    rpc = np.isin(outcome, RIGHT_PARTY_OUTCOMES)
    values: dict[str, np.ndarray] = {"rpc": rpc}
    for ch in config.categories.action_channels:
        values[f"a_{ch}"] = channel == ch
        values[f"r_{ch}"] = (channel == ch) & rpc
    ev = _Events(code, day, **values)
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
    rpc_ev = _Events(code[rpc], day[rpc])
    out["days_since_last_contact"] = rpc_ev.since(p.codes, p.days)
    cats = config.categories
    for column, source, allowed in (
        ("last_outcome", "outcome", cats.outcomes),
        ("last_reason", "reason_code", cats.reason_codes),
        ("last_attitude", "attitude", cats.attitudes),
    ):
        if source in acts:
            text = acts[source].astype(object).to_numpy()
            has = pd.notna(text) & (text != "unknown")
            sub = _Events(code[has], day[has], text=text[has])
            idx = sub.last(p.codes, p.days)
            val = _take(sub.values["text"], idx, fill=None) if len(sub) else [None] * len(p.codes)
        else:
            val = [None] * len(p.codes)
        out[column] = pd.Categorical(val, categories=list(allowed))
    stage = np.zeros(len(channel), dtype="int64")
    for ch, s in ESCALATION_STAGES.items():
        stage[channel == ch] = s
    # running maximum per account: codes are sorted, so code * 10 + stage only grows
    if len(ev):
        st = stage[np.lexsort((day, code))]
        running = np.maximum.accumulate(ev.codes * 10 + st) - ev.codes * 10
        idx = ev.last(p.codes, p.days)
        out["escalation_stage"] = np.where(idx >= 0, running[np.maximum(idx, 0)], 0)
    else:
        out["escalation_stage"] = 0
    for column, ch in (("guarantor_contacted", "guarantor_contact"), ("outsourced", "outsource")):
        sub = _Events(code[channel == ch], day[channel == ch])
        out[column] = sub.window(None, p.codes, p.days, None) > 0
    _promise_features(out, portfolio, acts, code, day, p, config)
    _conversation_features(out, acts, code, day, p, config)
    return out


def _conversation_features(out, acts, code, day, p: _Pairs, config: Config) -> None:
    """Stated reasons and recorded attitudes over the history (what the debtor says).

    A stated hardship points to a shock to the debtor's ability; the attitudes
    collectors record, pooled over many conversations, point to the debtor's type.
    """
    n_acts = len(code)
    reason = (
        acts["reason_code"].astype(object).to_numpy()
        if "reason_code" in acts
        else np.full(n_acts, None, dtype=object)
    )
    attitude = (
        acts["attitude"].astype(object).to_numpy()
        if "attitude" in acts
        else np.full(n_acts, None, dtype=object)
    )
    outcome = acts["outcome"].astype(str).to_numpy() if n_acts else np.empty(0, dtype=object)
    has_reason = pd.notna(reason)
    stated = has_reason & (reason != "unknown")
    hardship = stated & np.isin(reason, HARDSHIP_REASONS)
    ev = _Events(
        code,
        day,
        any_reason=has_reason.astype(float),
        stated=stated.astype(float),
        hardship=hardship.astype(float),
        cash=(stated & (reason == "cash_flow")).astype(float),
        claim=(outcome == "hardship").astype(float),
    )
    h90 = ev.window("hardship", p.codes, p.days, 90)
    s90 = ev.window("stated", p.codes, p.days, 90)
    out["hardship_reasons_90d"] = h90
    out["hardship_reason_share_90d"] = np.where(s90 > 0, h90 / np.maximum(s90, 1), np.nan)
    out["days_since_hardship_reason"] = _Events(code[hardship], day[hardship]).since(
        p.codes, p.days
    )
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
    recorded = pd.notna(attitude) & (attitude != "unknown")
    kinds = [a for a in config.categories.attitudes if a != "unknown"]
    att = _Events(
        code[recorded],
        day[recorded],
        **{a: (attitude[recorded] == a).astype(float) for a in kinds},
    )
    n_att = att.window(None, p.codes, p.days, None)
    out["attitudes_recorded"] = n_att
    for a in kinds:
        out[f"attitude_{a}_share"] = np.where(
            n_att > 0, att.window(a, p.codes, p.days, None) / np.maximum(n_att, 1), np.nan
        )


def _promise_features(out, portfolio, acts, code, day, p: _Pairs, config: Config) -> None:
    if len(acts):
        is_promise = (acts["outcome"].astype(str) == "promise_to_pay").to_numpy()
        if "promise_date" in acts:
            is_promise |= pd.to_datetime(acts["promise_date"]).notna().to_numpy()
    else:
        is_promise = np.zeros(0, dtype=bool)
    pr_code = code[is_promise]
    start = day[is_promise]
    if "promise_date" in acts and is_promise.any():
        promised = _day_numbers(pd.to_datetime(acts["promise_date"]).to_numpy()[is_promise])
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
        pev, _ = _valid_payments(portfolio, p)
        cum = pev.cum("amount")
        base = cum[np.searchsorted(pev.keys, pr_code * _SPAN + start, side="left")]
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
    made = _Events(pr_code, start, amount=amt0)
    kept = _Events(pr_code[kept_ok], kept_day[kept_ok], amount=amt0[kept_ok])
    broken = _Events(pr_code[~kept_ok], deadline[~kept_ok], amount=amt0[~kept_ok])
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


def account_features(
    portfolio: Portfolio,
    pairs: pd.DataFrame,
    config: Config | None = None,
    include_protected: bool = False,
) -> pd.DataFrame:
    """Account and application features of each pair, from ``accounts``.

    Every column of :data:`ACCOUNT_COLUMNS` is returned (NA when the table lacks it)
    except protected attributes (``config.categories.protected_attributes``, e.g. age
    band, gender), which are left out unless ``include_protected=True``.

    Examples
    --------
    >>> acc = pd.DataFrame({"account_id": ["A"], "principal": [1000.0], "gender": ["f"]})
    >>> q = pd.DataFrame({"account_id": ["A"], "as_of": pd.to_datetime(["2024-01-31"])})
    >>> f = account_features(Portfolio(accounts=acc), q)
    >>> f.loc[0, "principal"], "gender" in f, f.loc[0, "region"] is None
    (np.float64(1000.0), False, True)
    """
    config = config or Config()
    return _account_core(portfolio, pairs, config, include_protected).frame()


def _account_core(
    portfolio: Portfolio, pairs: pd.DataFrame, config: Config, include_protected: bool
) -> _Out:
    p = _Pairs.of(pairs)
    out = _Out(p.frame)
    if portfolio.accounts is None:
        portfolio = Portfolio(accounts=pd.DataFrame({"account_id": []}))
    protected = set(config.categories.protected_attributes)
    columns = [c for c in ACCOUNT_COLUMNS if include_protected or c not in protected]
    acc = portfolio.accounts.drop_duplicates("account_id")
    idx = pd.Index(acc["account_id"].astype(str)).get_indexer(out["account_id"])
    for c in columns:
        if c not in acc:  # every catalogue column is present; absent data is NA
            numeric = c in _NUMERIC_ACCOUNT_COLUMNS
            out[c] = np.full(
                len(idx), np.nan if numeric else None, dtype=float if numeric else object
            )
            continue
        col = acc[c].to_numpy()[np.maximum(idx, 0)].copy()
        if (idx < 0).any():
            col = col.astype("float64" if col.dtype.kind in "fi" else object)
            col[idx < 0] = np.nan if col.dtype.kind == "f" else None
        out[c] = col
    if "product" in out:
        out["product"] = pd.Categorical(out["product"], categories=list(config.categories.products))
    return out


# ------------------------------------------------------------------- aging (needs aging)
def _aging_module():
    try:
        from recovery.timeline import aging
    except ImportError as exc:  # pragma: no cover - until recovery.timeline.aging lands
        raise DataError(f"aging features need recovery.timeline.aging: {exc}") from None
    return aging


def _last_month_end(dates: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The last month end on or before each date."""
    dates = pd.DatetimeIndex(dates).normalize()
    return dates.where(dates.is_month_end, dates - pd.offsets.MonthEnd(1))


def _history_month_ends(days: np.ndarray, n_months: int) -> pd.DatetimeIndex:
    """Month ends covering the ``n_months`` month ends up to each date."""
    last = _last_month_end(_dates(np.unique(days)))
    return pd.date_range(last.min() - pd.offsets.MonthEnd(n_months - 1), last.max(), freq="ME")


def aging_features(
    portfolio: Portfolio,
    pairs: pd.DataFrame,
    config: Config | None = None,
    states: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Aging features of each pair, from :func:`recovery.timeline.aging.account_states`.

    Parameters
    ----------
    portfolio : Portfolio
        Needs ``accounts``, ``schedule``, ``payments``.
    pairs : pandas.DataFrame
        Columns ``account_id``, ``as_of``.
    config : Config, optional
    states : pandas.DataFrame, optional
        Precomputed ``account_states`` of the pairs' accounts at the as_of dates and at
        the 12 month ends before each (computed when not given).

    Returns
    -------
    pandas.DataFrame
        One row per pair: the aging features and ``paid_to_due_ratio``.

    Examples
    --------
    >>> sched = pd.DataFrame({"account_id": ["A", "A", "B", "B"], "installment_no": [1, 2] * 2,
    ...     "due_date": pd.to_datetime(["2024-01-31", "2024-02-29"] * 2), "amount_due": 100.0})
    >>> acc = pd.DataFrame({"account_id": ["A", "B"], "principal": 200.0,
    ...     "origination_date": pd.to_datetime(["2024-01-01", "2024-01-01"])})
    >>> pays = pd.DataFrame({"account_id": ["A", "B"], "amount": [100.0, 60.0],
    ...     "payment_date": pd.to_datetime(["2024-01-31", "2024-02-10"]), "channel": "cash"})
    >>> pf = Portfolio(accounts=acc, schedule=sched, payments=pays)
    >>> q = pd.DataFrame({"account_id": ["A", "B"], "as_of": pd.Timestamp("2024-02-15")})
    >>> aging_features(pf, q)[["account_id", "dpd", "bucket", "amount_overdue", "months_in_m1_3m"]]
      account_id   dpd bucket  amount_overdue  months_in_m1_3m
    0          A   0.0     M0             0.0              0.0
    1          B  15.0     M1            40.0              0.0
    """
    config = config or Config()
    return _known_at_as_of(_aging_core, portfolio, pairs, config, states=states).frame()


def _aging_core(
    portfolio: Portfolio, pairs: pd.DataFrame, config: Config, states: pd.DataFrame | None
) -> _Out:
    aging = _aging_module()
    p = _Pairs.of(pairs)
    out = _Out(p.frame)
    n_hist = max(BUCKET_WINDOWS_MONTHS)
    month_ends = _history_month_ends(p.days, n_hist)
    if states is None:
        dates = sorted(set(month_ends) | set(_dates(np.unique(p.days))))
        states = aging.account_states(portfolio, dates, config)
    st = states
    scode = p.code(st["account_id"])
    sday = _day_numbers(st["as_of"])
    keep = scode >= 0
    st_ev = _Events(scode[keep], sday[keep], row=np.flatnonzero(keep))
    # exact match of (account, as_of)
    idx = st_ev.last(p.codes, p.days)
    exact = idx >= 0
    exact[exact] = st_ev.days[idx[exact]] == p.days[exact]
    idx = np.where(exact, idx, -1)
    row = _take(st_ev.values["row"], idx, fill=-1).astype("int64")
    miss = row < 0
    safe_row = np.maximum(row, 0)

    def col(name, fill=np.nan):
        source = st[name]
        if isinstance(source.dtype, pd.CategoricalDtype):
            source = source.astype(object)
        v = source.to_numpy()[safe_row] if len(st) else np.full(len(row), fill, dtype=object)
        if miss.any():
            if v.dtype.kind in "iub":
                v = v.astype("float64")
            elif v.dtype.kind not in "fMO":
                v = v.astype(object)
            v[miss] = np.datetime64("NaT") if v.dtype.kind == "M" else fill
        return v

    out["dpd"] = col("dpd").astype("float64")
    out["bucket"] = pd.Categorical(col("bucket", None), categories=list(config.aging.bucket_names))
    out["status"] = pd.Categorical(col("status", None), categories=list(config.categories.statuses))
    out["balance"] = col("balance").astype("float64")
    out["amount_overdue"] = col("amount_overdue").astype("float64")
    out["debt_age_days"] = pd.to_numeric(pd.Series(col("debt_age_days")), errors="coerce").to_numpy(
        dtype="float64"
    )
    out["worst_dpd"] = pd.to_numeric(pd.Series(col("worst_dpd_to_date")), errors="coerce").to_numpy(
        dtype="float64"
    )
    co = _day_numbers(col("charge_off_date"))
    out["months_since_charge_off"] = np.where(
        (co >= 0) & (co <= p.days), (p.days - co) / _DAYS_PER_MONTH, np.nan
    )
    due = col("amount_due_to_date").astype("float64")
    paid = col("paid_to_date").astype("float64")
    with np.errstate(invalid="ignore", divide="ignore"):
        out["paid_to_due_ratio"] = np.where(due > 0, paid / due, np.nan)
    # accounts: months on book and share repaid
    if portfolio.accounts is not None:
        acc = portfolio.accounts.drop_duplicates("account_id")
        aidx = pd.Index(acc["account_id"].astype(str)).get_indexer(out["account_id"])
        principal = np.where(
            aidx >= 0, acc["principal"].to_numpy(dtype="float64")[np.maximum(aidx, 0)], np.nan
        )
        orig = pd.DatetimeIndex(
            pd.to_datetime(acc["origination_date"]).to_numpy()[np.maximum(aidx, 0)]
        )
        asof = pd.DatetimeIndex(out["as_of"])
        mob = (asof.year - orig.year) * 12 + (asof.month - orig.month) - (asof.day < orig.day)
        out["months_on_book"] = np.where(aidx >= 0, np.asarray(mob, dtype="float64"), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            out["share_principal_repaid"] = 1.0 - np.asarray(out["balance"]) / principal
    else:
        out["months_on_book"] = np.nan
        out["share_principal_repaid"] = np.nan
    sched = schedule_in_force(portfolio.schedule, out["account_id"], out["as_of"])
    out["installments_remaining"] = sched["installments_remaining"].to_numpy()
    out["installment_amount"] = sched["installment_amount"].to_numpy()
    # episodes: first delinquency and past payment cures known by as_of
    if hasattr(aging, "episodes"):
        ep = aging.episodes(portfolio, config)
    else:  # pragma: no cover - until recovery.timeline.aging.episodes lands
        ep = pd.DataFrame(columns=["account_id", "start_date", "end_date", "end_reason"])
    ecode = p.code(ep["account_id"])
    ok = ecode >= 0
    start_ev = _Events(ecode[ok], _day_numbers(ep["start_date"])[ok])
    first = start_ev.start(p.codes)
    has = (first < len(start_ev)) & (start_ev.window(None, p.codes, p.days, None) > 0)
    first_day = start_ev.days[np.minimum(first, max(len(start_ev) - 1, 0))] if len(start_ev) else 0
    out["months_since_first_delinquency"] = np.where(
        has, (p.days - first_day) / _DAYS_PER_MONTH, np.nan
    )
    cured = ok & (ep["end_reason"].astype(str).to_numpy() == "payment_cure")
    end_day = _day_numbers(ep["end_date"])
    cure_ev = _Events(ecode[cured], end_day[cured])
    out["past_cures"] = cure_ev.window(None, p.codes, p.days, None)
    # month-end buckets in the last 3/6/12 month ends
    _months_in_bucket(out, st, p, config, n_hist)
    return out


def _month_number(dates: Any) -> np.ndarray:
    d = pd.DatetimeIndex(pd.to_datetime(dates))
    return (d.year * 12 + d.month - 1).to_numpy().astype("int64")


def _months_in_bucket(
    out: pd.DataFrame,
    states: pd.DataFrame,
    p: _Pairs,
    config: Config,
    n_hist: int,
    month_col: str = "as_of",
) -> None:
    """Count month ends in each bucket over the last 3/6/12 month ends (dense gather)."""
    me = pd.DatetimeIndex(pd.to_datetime(states[month_col]))
    keep = me.is_month_end & (p.code(states["account_id"]) >= 0)
    sub = states[np.asarray(keep)]
    scode = p.code(sub["account_id"])
    smonth = _month_number(sub[month_col])
    asof = pd.DatetimeIndex(p.frame["as_of"])
    # the last month end on or before as_of
    qmonth = _month_number(asof) - (~asof.is_month_end).astype("int64")
    names = list(config.aging.bucket_names)
    bidx = pd.Categorical(sub["bucket"], categories=names).codes.astype("int64")  # -1 = none
    if len(sub):
        m0 = min(smonth.min(), qmonth.min() - n_hist)
        width = max(smonth.max(), qmonth.max()) - m0 + 1
    else:
        m0, width = qmonth.min() - n_hist, n_hist + 1
    grid = np.full((len(p.ids), width), -1, dtype="int8")
    grid[scode, smonth - m0] = bidx
    lagged = np.stack([grid[p.codes, qmonth - m0 - lag] for lag in range(n_hist)], axis=1)
    for months in BUCKET_WINDOWS_MONTHS:
        window = lagged[:, :months]
        for b, name in enumerate(names):
            out[f"months_in_{_slug(name)}_{months}m"] = (window == b).sum(axis=1).astype("float64")


# ------------------------------------------------------------------- overdue pairs
def is_overdue(status: Any, dpd: Any, balance: Any, config: Config | None = None) -> np.ndarray:
    """Overdue: open with DPD > 0, or charged off with a balance left (the recovery book).

    A charged-off balance at or below ``config.aging.tolerance`` (currency) is repaid.

    Examples
    --------
    >>> is_overdue(["open", "open", "charged_off", "charged_off"], [0, 3, 200, 0],
    ...            [100.0, 100.0, 50.0, 0.0]).tolist()
    [False, True, True, False]
    """
    config = config or Config()
    status = pd.Series(status).astype(object).to_numpy()
    dpd = pd.to_numeric(pd.Series(dpd), errors="coerce").fillna(0).to_numpy()
    balance = pd.to_numeric(pd.Series(balance), errors="coerce").fillna(0).to_numpy()
    charged = (status == "charged_off") & (balance > config.aging.tolerance)
    return ((status == "open") & (dpd > 0)) | charged


def overdue_pairs(states: pd.DataFrame, config: Config | None = None) -> pd.DataFrame:
    """The (account_id, as_of) pairs of overdue accounts in an ``account_states`` table.

    Overdue: see :func:`is_overdue`.

    Examples
    --------
    >>> st = pd.DataFrame({"account_id": ["A", "B", "C"], "as_of": pd.Timestamp("2024-01-31"),
    ...     "dpd": [0, 12, 200], "status": ["open", "open", "charged_off"], "balance": 50.0})
    >>> overdue_pairs(st)["account_id"].tolist()
    ['B', 'C']
    """
    config = config or Config()
    mask = is_overdue(states["status"], states["dpd"], states["balance"], config)
    return (
        states.loc[mask, ["account_id", "as_of"]]
        .sort_values(["as_of", "account_id"], kind="stable")
        .reset_index(drop=True)
    )


# ------------------------------------------------------------------- build_features
def build_features(
    portfolio: Portfolio,
    as_of: pd.DataFrame | Sequence[Any] | Any,
    config: Config | None = None,
    *,
    include_protected: bool = False,
    partition_size: int | None = 50_000,
    progress: bool = False,
) -> pd.DataFrame:
    """The point-in-time feature matrix, one row per (account_id, as_of).

    Parameters
    ----------
    portfolio : Portfolio
        Event tables: ``accounts``, ``schedule``, ``payments`` (``actions`` optional).
    as_of : DataFrame or date or list of dates
        A table of ``account_id, as_of`` pairs, or dates: then every overdue account
        (open with DPD > 0, or charged off) at each date.
    config : Config, optional
    include_protected : bool
        Keep protected attributes (age band, gender) among the account features.
    partition_size : int, optional
        Accounts per partition (memory bound); ``None`` = one partition. Results do
        not depend on it.
    progress : bool
        Show a progress bar over partitions.

    Returns
    -------
    pandas.DataFrame
        ``account_id, as_of`` then the features of :func:`feature_catalogue` (mode
        ``ledger``), sorted by ``account_id, as_of``. Money (unit ``currency``) is
        float64, other numbers float32, flags bool, categories pandas categoricals
        (config categories) or strings.

    Examples
    --------
    >>> sched = pd.DataFrame({"account_id": ["A", "A", "B", "B"], "installment_no": [1, 2] * 2,
    ...     "due_date": pd.to_datetime(["2024-01-31", "2024-02-29"] * 2), "amount_due": 100.0})
    >>> acc = pd.DataFrame({"account_id": ["A", "B"], "principal": 200.0,
    ...     "origination_date": pd.to_datetime(["2024-01-01", "2024-01-01"])})
    >>> pays = pd.DataFrame({"account_id": ["A", "B"], "amount": [100.0, 60.0],
    ...     "payment_date": pd.to_datetime(["2024-01-31", "2024-02-10"]), "channel": "cash"})
    >>> pf = Portfolio(accounts=acc, schedule=sched, payments=pays)
    >>> X = build_features(pf, ["2024-01-31", "2024-02-15"])  # overdue accounts only
    >>> X[["account_id", "as_of", "dpd", "days_since_last_payment", "paid_amount_30d"]]
      account_id      as_of   dpd  days_since_last_payment  paid_amount_30d
    0          B 2024-02-15  15.0                      5.0             60.0
    """
    parts = list(
        iter_features(
            portfolio,
            as_of,
            config,
            include_protected=include_protected,
            partition_size=partition_size,
            progress=progress,
        )
    )
    if not parts:
        return _empty_matrix(config or Config(), include_protected)
    return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]


def iter_features(
    portfolio: Portfolio,
    as_of: pd.DataFrame | Sequence[Any] | Any,
    config: Config | None = None,
    *,
    include_protected: bool = False,
    partition_size: int | None = 50_000,
    progress: bool = False,
    with_labels: bool = False,
) -> Iterator[pd.DataFrame]:
    """The feature matrix one partition of accounts at a time (bounded memory).

    Same arguments as :func:`build_features`; yields its rows in the same order, in
    pieces of at most ``partition_size`` accounts (partitions without overdue pairs
    are skipped). With ``with_labels`` each piece also has the columns of
    :func:`recovery.timeline.labels.build_labels`. :func:`write_features` streams the pieces
    to a file.

    Examples
    --------
    >>> sched = pd.DataFrame({"account_id": ["A", "A", "B", "B"], "installment_no": [1, 2] * 2,
    ...     "due_date": pd.to_datetime(["2024-01-31", "2024-02-29"] * 2), "amount_due": 100.0})
    >>> acc = pd.DataFrame({"account_id": ["A", "B"], "principal": 200.0,
    ...     "origination_date": pd.to_datetime(["2024-01-01", "2024-01-01"])})
    >>> pays = pd.DataFrame({"account_id": ["A", "B"], "amount": [100.0, 60.0],
    ...     "payment_date": pd.to_datetime(["2024-01-31", "2024-02-10"]), "channel": "cash"})
    >>> pf = Portfolio(accounts=acc, schedule=sched, payments=pays)
    >>> [len(piece) for piece in iter_features(pf, ["2024-03-31"], partition_size=1)]
    [1, 1]
    """
    config = config or Config()
    _require(portfolio, "accounts", "schedule", "payments")
    request = _as_pairs(as_of)
    if isinstance(request, pd.DataFrame):
        accounts = pd.unique(request["account_id"].astype(str))
    else:
        orig = pd.to_datetime(portfolio.accounts["origination_date"])
        accounts = pd.unique(portfolio.accounts.loc[orig <= max(request), "account_id"].astype(str))
    accounts = np.sort(np.asarray(accounts, dtype=object))
    size = len(accounts) if not partition_size else int(partition_size)
    chunks = [accounts[i : i + size] for i in range(0, len(accounts), max(size, 1))]
    iterator = chunks
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(chunks, desc="features", unit="partition")
    for ids, part in zip(iterator, _split(portfolio, accounts, size), strict=False):
        if isinstance(request, pd.DataFrame):
            req = request[request["account_id"].astype(str).isin(ids)]
        else:
            req = request
        columns = _features_of_partition(part, req, config, include_protected)
        if columns is None:
            continue
        piece = _finish(columns, config)
        if with_labels:
            from recovery.timeline.labels import build_labels

            labels = build_labels(part, piece[["account_id", "as_of"]], config, partition_size=None)
            piece = piece.merge(labels, on=["account_id", "as_of"], how="left", validate="1:1")
        yield piece


def _finish(columns: _Out | pd.DataFrame, config: Config) -> pd.DataFrame:
    """One DataFrame with stable dtypes (from the catalogue units), sorted by
    (account_id, as_of) — every column is converted and reordered once."""
    units = feature_catalogue(config).set_index("name")["unit"]
    if isinstance(columns, pd.DataFrame):
        columns = {c: columns[c].array for c in columns.columns}
    account = np.asarray(columns["account_id"]).astype(str)
    as_of = np.asarray(columns["as_of"])
    order = np.lexsort((as_of, account))
    in_order = bool((order == np.arange(len(order))).all())
    out = {}
    for column, values in columns.items():
        unit = units.get(column)
        kind = getattr(values, "dtype", np.dtype(object)).kind
        if unit in _FLOAT32_UNITS and kind in "fiu":
            values = np.asarray(values, dtype="float32")
        elif unit == "flag" and kind != "b":
            values = pd.array(values, dtype="boolean")
        elif unit == "category" and not isinstance(values, pd.Categorical):
            values = pd.array(values, dtype="string")
        if not in_order:
            values = values[order] if isinstance(values, np.ndarray) else values.take(order)
        out[column] = values
    return pd.DataFrame(out)


def write_features(
    portfolio: Portfolio,
    as_of: pd.DataFrame | Sequence[Any] | Any,
    path: str | Any,
    config: Config | None = None,
    *,
    with_labels: bool = False,
    include_protected: bool = False,
    partition_size: int | None = 50_000,
    progress: bool = False,
) -> int:
    """Write the feature matrix (and optionally the labels) to a Parquet or CSV file.

    Partitions are computed and appended one at a time, so memory stays that of one
    partition whatever the book size. The file is written to a temporary name and
    renamed when complete: an error leaves no partial file.

    Parameters
    ----------
    portfolio, as_of, config, include_protected, partition_size, progress
        As for :func:`build_features`.
    path : str or Path
        ``.parquet`` or ``.csv`` file.
    with_labels : bool
        Add the columns of :func:`recovery.timeline.labels.build_labels`.

    Returns
    -------
    int
        Rows written.

    Examples
    --------
    >>> sched = pd.DataFrame({"account_id": ["A", "A", "B", "B"], "installment_no": [1, 2] * 2,
    ...     "due_date": pd.to_datetime(["2024-01-31", "2024-02-29"] * 2), "amount_due": 100.0})
    >>> acc = pd.DataFrame({"account_id": ["A", "B"], "principal": 200.0,
    ...     "origination_date": pd.to_datetime(["2024-01-01", "2024-01-01"])})
    >>> pays = pd.DataFrame({"account_id": ["A", "B"], "amount": [100.0, 60.0],
    ...     "payment_date": pd.to_datetime(["2024-01-31", "2024-02-10"]), "channel": "cash"})
    >>> pf = Portfolio(accounts=acc, schedule=sched, payments=pays)
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_features(pf, ["2024-03-31"], pathlib.Path(tmp) / "features.parquet")
    2
    """
    from pathlib import Path

    from recovery.data.io import atomic_path

    config = config or Config()
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise DataError(f"cannot write {path}: use a .parquet or .csv file name")
    rows = 0
    writer = None
    schema = None
    with atomic_path(path) as tmp:
        pieces = iter_features(
            portfolio,
            as_of,
            config,
            include_protected=include_protected,
            partition_size=partition_size,
            progress=progress,
        )
        for piece in pieces:
            if with_labels:
                from recovery.timeline.labels import build_labels

                ids = piece["account_id"].unique()
                labels = build_labels(
                    portfolio.subset(ids),
                    piece[["account_id", "as_of"]],
                    config,
                    partition_size=None,
                )
                piece = piece.merge(labels, on=["account_id", "as_of"], how="left")
            rows += len(piece)
            if suffix == ".csv":
                piece.to_csv(
                    tmp, mode="a", header=writer is None, index=False, date_format="%Y-%m-%d"
                )
                writer = True
                continue
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(piece, schema=schema, preserve_index=False)
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(tmp, schema)
            writer.write_table(table)
        if writer is None:  # no overdue pair: an empty table with the columns
            empty = _empty_matrix(config, include_protected)
            if suffix == ".csv":
                empty.to_csv(tmp, index=False)
            else:
                empty.to_parquet(tmp, index=False)
        elif writer is not True:
            writer.close()
    return rows


def _split(portfolio: Portfolio, accounts: np.ndarray, size: int):
    """Partitions of ``size`` consecutive (sorted) accounts; each table is scanned once."""
    n_parts = -(-len(accounts) // max(size, 1))
    if n_parts <= 1:
        yield portfolio
        return
    index = pd.Index(accounts)
    located = {}
    for name in (
        "accounts",
        "schedule",
        "payments",
        "actions",
        "assignments",
        "events",
        "snapshots",
    ):
        df = getattr(portfolio, name)
        if df is None:
            continue
        code = index.get_indexer(df["account_id"].astype(str))
        part = np.where(code >= 0, code // size, n_parts)  # n_parts = not requested
        order = np.argsort(part, kind="stable")
        bounds = np.searchsorted(part[order], np.arange(n_parts + 1))
        located[name] = (df, order, bounds)
    for k in range(n_parts):
        tables = {
            name: df.iloc[order[bounds[k] : bounds[k + 1]]].reset_index(drop=True)
            for name, (df, order, bounds) in located.items()
        }
        yield Portfolio(**tables, agents=portfolio.agents, meta=dict(portfolio.meta))


def _empty_matrix(config: Config, include_protected: bool) -> pd.DataFrame:
    names = feature_names(config, include_protected)
    return pd.DataFrame(columns=["account_id", "as_of", *names])


def feature_names(
    config: Config | None = None, include_protected: bool = False, mode: str = "ledger"
) -> list[str]:
    """Names of the features of one mode (``ledger`` or ``snapshots``), catalogue order.

    Examples
    --------
    >>> "promises_kept" in feature_names(), "promises_kept" in feature_names(mode="snapshots")
    (True, False)
    """
    config = config or Config()
    cat = feature_catalogue(config)
    cat = cat[cat["modes"].str.contains(mode)]
    if not include_protected:
        cat = cat[~cat["name"].isin(config.categories.protected_attributes)]
    return cat["name"].tolist()


def _features_of_partition(
    portfolio: Portfolio, request, config: Config, include_protected: bool
) -> _Out | None:
    """Features of one partition of accounts (DESIGN.md §4); None without pairs."""
    aging = _aging_module()
    if isinstance(request, pd.DataFrame):
        pairs = request[["account_id", "as_of"]].copy()
        pairs["as_of"] = pd.to_datetime(pairs["as_of"]).dt.normalize()
        states = None
    else:
        hist = _history_month_ends(_day_numbers(pd.Series(request)), max(BUCKET_WINDOWS_MONTHS))
        dates = sorted(set(hist) | set(request))
        states = aging.account_states(portfolio, dates, config)
        st_dates = pd.to_datetime(states["as_of"]).dt.normalize()
        pairs = overdue_pairs(states[st_dates.isin(request)], config)
    if not len(pairs):
        return None
    # queries sorted by (account, as_of) make every searchsorted walk memory in order
    pairs = pairs.sort_values(["account_id", "as_of"], kind="stable").reset_index(drop=True)
    return _known_at_as_of(
        _features_core, portfolio, pairs, config, include_protected=include_protected, states=states
    )


def _features_core(
    portfolio: Portfolio,
    pairs: pd.DataFrame,
    config: Config,
    include_protected: bool | None,
    states: pd.DataFrame | None,
) -> _Out:
    merged = _aging_core(portfolio, pairs, config, states)
    merged.update(_payment_core(portfolio, pairs, config))
    merged.update(_contact_core(portfolio, pairs, config))
    merged.update(_account_core(portfolio, pairs, config, bool(include_protected)))
    out = _Out.__new__(_Out)
    for name in ["account_id", "as_of", *feature_names(config, bool(include_protected))]:
        if name in merged:
            dict.__setitem__(out, name, merged[name])
    return out


# ------------------------------------------------------------------- snapshot-only mode
def snapshot_features(
    snapshots: pd.DataFrame,
    as_of_dates: Any,
    config: Config | None = None,
    accounts: pd.DataFrame | None = None,
    include_protected: bool = False,
) -> pd.DataFrame:
    """Aging and payment features from a monthly ``snapshots`` table alone.

    For a lender with only a monthly performance table. Features are those of
    :func:`feature_catalogue` with mode ``snapshots``: the aging features read at month
    ends (``worst_dpd`` and ``past_cures`` see month ends only) and payment features
    from ``paid_in_month``. Only snapshot rows dated on or before each as_of are used.

    Parameters
    ----------
    snapshots : pandas.DataFrame
        The ``snapshots`` table (account × month end).
    as_of_dates : date, list of dates, or DataFrame of ``account_id, as_of`` pairs
        Month ends to score; dates give every overdue account (open with DPD > 0, or
        charged off) at each.
    config : Config, optional
    accounts : pandas.DataFrame, optional
        The ``accounts`` table, for months on book and account features.
    include_protected : bool
        Keep protected attributes among the account features.

    Returns
    -------
    pandas.DataFrame
        ``account_id, as_of`` and the snapshot-mode features, sorted by account_id,
        as_of; dtypes as in :func:`build_features`.

    Examples
    --------
    >>> snaps = pd.DataFrame({"account_id": "A",
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31"]),
    ...     "dpd": [0, 20, 50], "bucket": ["M0", "M1", "M2"], "balance": 500.0,
    ...     "amount_overdue": [0.0, 100.0, 200.0], "paid_in_month": [100.0, 0.0, 0.0],
    ...     "status": "open"})
    >>> f = snapshot_features(snaps, ["2024-03-31"])
    >>> f[["dpd", "months_in_m1_3m", "months_since_last_payment", "paid_amount_3m"]]
        dpd  months_in_m1_3m  months_since_last_payment  paid_amount_3m
    0  50.0              1.0                        2.0           100.0
    """
    config = config or Config()
    snaps = snapshots.copy()
    snaps["account_id"] = snaps["account_id"].astype(str)
    snaps["month_end"] = pd.to_datetime(snaps["month_end"]).dt.normalize()
    request = _as_pairs(as_of_dates)
    if isinstance(request, pd.DataFrame):
        pairs = request[["account_id", "as_of"]].copy()
        pairs["account_id"] = pairs["account_id"].astype(str)
        pairs["as_of"] = pd.to_datetime(pairs["as_of"]).dt.normalize()
    else:
        rows = snaps[snaps["month_end"].isin(request)].rename(columns={"month_end": "as_of"})
        pairs = overdue_pairs(rows, config)
    p = _Pairs.of(pairs)
    out = _Out(p.frame)
    scode = p.code(snaps["account_id"])
    snaps = snaps[scode >= 0].reset_index(drop=True)
    scode = scode[scode >= 0]
    smonth = _month_number(snaps["month_end"])
    asof = pd.DatetimeIndex(out["as_of"])
    qmonth = _month_number(asof) - (~asof.is_month_end).astype("int64")
    n_hist = max(BUCKET_WINDOWS_MONTHS)
    m0 = min(smonth.min() if len(smonth) else qmonth.min(), qmonth.min() - n_hist)
    width = max(smonth.max() if len(smonth) else qmonth.max(), qmonth.max()) - m0 + 1
    n = len(p.ids)

    def dense(values, fill, dtype):
        g = np.full((n, width), fill, dtype=dtype)
        g[scode, smonth - m0] = values
        return g

    col0 = qmonth - m0
    have = dense(True, False, bool)
    here = have[p.codes, col0]

    def at(grid):
        v = grid[p.codes, col0].astype("float64")
        return np.where(here, v, np.nan)

    dpd = dense(snaps["dpd"].to_numpy(dtype="float64"), np.nan, "float64")
    out["dpd"] = at(dpd)
    names = list(config.aging.bucket_names)
    bcode = pd.Categorical(snaps["bucket"], categories=names).codes
    bgrid = dense(bcode, -1, "int8")
    out["bucket"] = pd.Categorical.from_codes(
        np.where(here, bgrid[p.codes, col0], -1), categories=names
    )
    statuses = list(config.categories.statuses)
    sgrid = dense(pd.Categorical(snaps["status"], categories=statuses).codes, -1, "int8")
    out["status"] = pd.Categorical.from_codes(
        np.where(here, sgrid[p.codes, col0], -1), categories=statuses
    )
    for c in ("balance", "amount_overdue"):
        out[c] = at(dense(snaps[c].to_numpy(dtype="float64"), np.nan, "float64"))
    if "debt_age_days" in snaps:
        age = pd.to_numeric(snaps["debt_age_days"], errors="coerce").to_numpy(dtype="float64")
        out["debt_age_days"] = at(dense(age, np.nan, "float64"))
    else:
        out["debt_age_days"] = np.nan
    # history up to as_of: running values along the months of each account (an
    # accounts × months grid), read at the as_of column
    cols = np.arange(width)[None, :]
    worst = np.fmax.accumulate(dpd, axis=1)
    out["worst_dpd"] = at(worst)
    delinquent = np.nan_to_num(dpd, nan=0.0) > 0
    first_bad = np.where(delinquent.any(axis=1), delinquent.argmax(axis=1), width)[p.codes]
    out["months_since_first_delinquency"] = np.where(
        first_bad <= col0, col0 - first_bad, np.nan
    ).astype("float64")
    cure_state = (np.nan_to_num(dpd, nan=-1.0) == 0) & np.isin(
        sgrid, [statuses.index("open"), statuses.index("paid_off")]
    )
    cure_state[:, 1:] &= delinquent[:, :-1]
    cure_state[:, 0] = False
    out["past_cures"] = np.cumsum(cure_state, axis=1)[p.codes, col0].astype("float64")
    if "charge_off_date" in snaps:
        co_at = dense(_day_numbers(snaps["charge_off_date"]), -1, "int64")[p.codes, col0]
        out["months_since_charge_off"] = np.where(
            here & (co_at >= 0) & (co_at <= p.days), (p.days - co_at) / _DAYS_PER_MONTH, np.nan
        )
    else:
        charged = sgrid == statuses.index("charged_off")
        first_co = np.where(charged.any(axis=1), charged.argmax(axis=1), width)[p.codes]
        out["months_since_charge_off"] = np.where(first_co <= col0, col0 - first_co, np.nan).astype(
            "float64"
        )
    if accounts is not None and "origination_date" in accounts:
        acc = accounts.drop_duplicates("account_id")
        aidx = pd.Index(acc["account_id"].astype(str)).get_indexer(out["account_id"])
        orig = pd.DatetimeIndex(
            pd.to_datetime(acc["origination_date"]).to_numpy()[np.maximum(aidx, 0)]
        )
        mob = (asof.year - orig.year) * 12 + (asof.month - orig.month) - (asof.day < orig.day)
        out["months_on_book"] = np.where(aidx >= 0, np.asarray(mob, dtype="float64"), np.nan)
    else:
        first_seen = np.where(have.any(axis=1), have.argmax(axis=1), width)[p.codes]
        out["months_on_book"] = np.where(first_seen <= col0, col0 - first_seen, np.nan).astype(
            "float64"
        )
    for months in BUCKET_WINDOWS_MONTHS:
        for b, name in enumerate(names):
            hits = np.zeros(len(p.codes))
            for lag in range(months):
                hits += bgrid[p.codes, col0 - lag] == b
            out[f"months_in_{_slug(name)}_{months}m"] = hits
    paid = dense(snaps["paid_in_month"].to_numpy(dtype="float64"), 0.0, "float64")
    last_paid = np.maximum.accumulate(np.where(paid > 0, cols, -1), axis=1)[p.codes, col0]
    out["months_since_last_payment"] = np.where(last_paid >= 0, col0 - last_paid, np.nan).astype(
        "float64"
    )
    for months in SNAPSHOT_PAYMENT_WINDOWS_MONTHS:
        amount = np.zeros(len(p.codes))
        count = np.zeros(len(p.codes))
        for lag in range(months):
            v = paid[p.codes, col0 - lag]
            amount += v
            count += v > 0
        out[f"paid_amount_{months}m"] = amount
        out[f"months_with_payment_{months}m"] = count
    if accounts is not None:
        acc_feats = account_features(Portfolio(accounts=accounts), pairs, config, include_protected)
        for c in acc_feats.columns[2:]:
            out[c] = acc_feats[c].to_numpy()
    names_out = [c for c in feature_names(config, include_protected, mode="snapshots") if c in out]
    return _finish({c: out[c] for c in ["account_id", "as_of", *names_out]}, config)
