"""The feature catalogue: every point-in-time feature, defined once (DESIGN.md §3).

:func:`feature_catalogue` lists each feature with its definition, unit, source tables,
group (``aging``, ``payment``, ``contact``, ``account``, ``customer``) and modes (``ledger``: computed
from the event tables by :func:`recovery.timeline.features.build_features`;
``snapshots``: from a monthly performance table by
:func:`recovery.timeline.snapshot_features.snapshot_features`). ``docs/features.md`` is
generated from it (:func:`catalogue_markdown`) and a test checks they agree. The unit of
a feature decides its dtype in the matrix (:func:`feature_frame`); the window lengths of
the families are the constants below.

Examples
--------
>>> cat = feature_catalogue()
>>> cat.loc[cat["name"] == "days_since_last_payment", "unit"].item()
'days'
>>> sorted(cat["group"].unique())
['account', 'aging', 'contact', 'customer', 'payment']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config

__all__ = [
    "Feature",
    "feature_catalogue",
    "catalogue_markdown",
    "feature_names",
    "feature_frame",
    "bucket_slug",
    "PAYMENT_WINDOWS_DAYS",
    "CONTACT_WINDOWS_DAYS",
    "CUSTOMER_PAYMENT_WINDOWS_DAYS",
    "BUCKET_WINDOWS_MONTHS",
    "SNAPSHOT_PAYMENT_WINDOWS_MONTHS",
    "REGULARITY_WINDOW_DAYS",
    "ACCOUNT_COLUMNS",
]

#: windows (days) of the payment counts and sums
PAYMENT_WINDOWS_DAYS = (30, 90, 180)
#: windows (days) of the contact counts
CONTACT_WINDOWS_DAYS = (7, 30, 90)
#: windows (month ends) of the months-in-bucket counts
BUCKET_WINDOWS_MONTHS = (3, 6, 12)
#: windows (months) of the payment features of the snapshot-only mode
SNAPSHOT_PAYMENT_WINDOWS_MONTHS = (1, 3, 6)
#: windows (days) of the payments on the customer's other accounts
CUSTOMER_PAYMENT_WINDOWS_DAYS = (30, 90)
#: window (days) of the payment-day regularity
REGULARITY_WINDOW_DAYS = 365
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


# --------------------------------------------------------------------------- catalogue
@dataclass(frozen=True)
class Feature:
    """One entry of the feature catalogue.

    Attributes
    ----------
    name : str
        Column name in the feature matrix.
    group : str
        ``aging``, ``payment``, ``contact``, ``account`` or ``customer``.
    definition : str
        What the value means, in words a collector understands.
    unit : str
        ``days``, ``months``, ``currency``, ``count``, ``share`` (0–1), ``ratio``,
        ``category``, ``flag`` or ``stage``.
    source : str
        Table(s) the value is computed from.
    modes : str
        ``ledger`` (event tables, :func:`~recovery.timeline.features.build_features`),
        ``snapshots`` (:func:`~recovery.timeline.snapshot_features.snapshot_features`)
        or ``ledger, snapshots``.
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
            "days past due at as_of (oldest unpaid amount first; snapshots from a status "
            "code: an estimate, the middle of the code's band)",
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
            "outstanding principal at as_of (a credit balance reads 0; missing in a "
            "status-only history)",
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
            "highest DPD reached up to as_of (an estimate when read from status codes)",
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
                    f"months_in_{bucket_slug(name)}_{months}m",
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
    # customer (opt-in: config features.customer_level) --------------------------
    books = "accounts (customer_id), schedule, payments, events"
    out += [
        F(
            "customer_accounts",
            "customer",
            "the customer's accounts on the books at as_of (open or charged off; this one "
            "included; opened later: not yet)",
            "count",
            books,
        ),
        F(
            "customer_accounts_overdue",
            "customer",
            "of those, overdue at as_of (DPD > 0 or charged off)",
            "count",
            books,
        ),
        F(
            "customer_worst_dpd",
            "customer",
            "highest DPD at as_of across the customer's accounts on the books",
            "days",
            books,
        ),
        F(
            "customer_other_charged_off",
            "customer",
            "the customer's other accounts charged off by as_of",
            "count",
            books,
        ),
        F(
            "customer_other_paid_off",
            "customer",
            "the customer's other accounts paid off by as_of (a loan repaid in full)",
            "count",
            books,
        ),
        F(
            "customer_other_amount_overdue",
            "customer",
            "amount past due at as_of on the customer's other accounts",
            "currency",
            books,
        ),
    ]
    for w in CUSTOMER_PAYMENT_WINDOWS_DAYS:
        out.append(
            F(
                f"customer_other_paid_{w}d",
                "customer",
                f"paid on the customer's other accounts in the {w} days to as_of (not "
                "reversed by as_of)",
                "currency",
                "accounts (customer_id), payments",
            )
        )
    for w in CUSTOMER_PAYMENT_WINDOWS_DAYS:
        out.append(
            F(
                f"customer_other_payment_count_{w}d",
                "customer",
                f"payments on the customer's other accounts in the {w} days to as_of",
                "count",
                "accounts (customer_id), payments",
            )
        )
    return out


def bucket_slug(bucket: str) -> str:
    """A bucket name as it appears in feature names.

    Parameters
    ----------
    bucket : str
        A name of ``config.aging.bucket_names``.

    Returns
    -------
    str

    Examples
    --------
    >>> bucket_slug("M7+")
    'm7_plus'
    """
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


def feature_names(
    config: Config | None = None, include_protected: bool = False, mode: str = "ledger"
) -> list[str]:
    """Names of the features of one mode (``ledger`` or ``snapshots``), catalogue order.

    Parameters
    ----------
    config : Config, optional
    include_protected : bool
        Keep the protected attributes (``config.categories.protected_attributes``).
        The customer-level group is listed only with ``config.features.customer_level``.
    mode : str
        ``ledger`` or ``snapshots``.

    Returns
    -------
    list of str

    Examples
    --------
    >>> "promises_kept" in feature_names(), "promises_kept" in feature_names(mode="snapshots")
    (True, False)
    """
    config = config or Config()
    cat = feature_catalogue(config)
    cat = cat[cat["modes"].str.contains(mode)]
    if not config.features.customer_level:
        cat = cat[cat["group"].ne("customer")]
    if not include_protected:
        cat = cat[~cat["name"].isin(config.categories.protected_attributes)]
    return cat["name"].tolist()


def feature_frame(columns: Mapping[str, Any] | pd.DataFrame, config: Config) -> pd.DataFrame:
    """The feature matrix: stable dtypes from the catalogue units, sorted by pair.

    Every column is converted and reordered once: numbers of a unit in days, months,
    counts, shares, ratios or stages become float32 (exact for those values; halves
    the matrix), money stays float64, flags become nullable booleans and categories
    not already categorical become strings.

    Parameters
    ----------
    columns : mapping of str to array, or pandas.DataFrame
        ``account_id``, ``as_of`` and feature columns (e.g.
        :class:`~recovery.timeline.events.PairColumns`).
    config : Config
        For the catalogue.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``account_id, as_of``. When the pairs come sorted, the arrays given
        that need no conversion become its columns as they are (not copied; an array
        given twice, a view or a read-only array is copied): each column is its own
        block, nothing is copied into per-dtype blocks.

    Examples
    --------
    >>> X = feature_frame({"account_id": np.array(["B", "A"]),
    ...     "as_of": pd.to_datetime(["2024-01-31"] * 2).to_numpy(),
    ...     "dpd": np.array([3, 0]), "balance": np.array([5.0, 6.0])}, Config())
    >>> X["account_id"].tolist(), X.dtypes[["dpd", "balance"]].tolist()
    (['A', 'B'], [dtype('float32'), dtype('float64')])
    """
    units = feature_catalogue(config).set_index("name")["unit"]
    if isinstance(columns, pd.DataFrame):
        columns = {c: columns[c].array for c in columns.columns}
    order = _pair_order(columns["account_id"], columns["as_of"])
    out = {}
    seen: set[int] = set()
    for column, values in columns.items():
        unit = units.get(column)
        kind = getattr(values, "dtype", np.dtype(object)).kind
        if unit in _FLOAT32_UNITS and kind in "fiu":
            values = np.asarray(values, dtype="float32")
        elif unit == "flag" and kind != "b":
            values = pd.array(values, dtype="boolean")
        elif unit == "category" and not isinstance(values, pd.Categorical):
            values = pd.array(values, dtype="string")
        if order is not None:
            values = values[order] if isinstance(values, np.ndarray) else values.take(order)
        elif id(values) in seen or (
            isinstance(values, np.ndarray)
            and (values.base is not None or not values.flags.writeable)
        ):
            values = values.copy()  # each column its own writeable array
        seen.add(id(values))
        out[column] = values
    # one block per column, as built: no copy of the matrix into per-dtype blocks
    # (the consolidation pandas does by default, the slowest step of building it)
    return pd.DataFrame(out, copy=False)


def _pair_order(account_id: Any, as_of: Any) -> np.ndarray | None:
    """The order that sorts the pairs by ``account_id, as_of``; None when they are sorted."""
    account = np.asarray(account_id)
    as_of = np.asarray(as_of)
    if len(account) < 2:
        return None
    if account.dtype.kind == "O":
        same = account[1:] == account[:-1]
        ordered = (account[1:] > account[:-1]) | (same & (as_of[1:] >= as_of[:-1]))
        if bool(ordered.all()) and pd.api.types.infer_dtype(account, skipna=False) == "string":
            return None  # Python strings compare as the sort below orders them
    account = account.astype(str)
    order = np.lexsort((as_of, account))
    return None if bool((order == np.arange(len(order))).all()) else order
