"""Monthly performance data: the second entry point, loaded as the ``snapshots`` table.

Many lenders only keep a warehouse table with one row per account and month: the
account, the month, a delinquency status (days past due, or a code such as "months
behind" or a bucket label), the balance and the amount paid. This module turns such a
table into the contract's ``snapshots`` (DESIGN.md §2), so that everything
snapshot-based — roll rates, vintages, recovery by debt age, KPIs, the snapshot-only
features, labels and models — runs on it. A column mapping (:mod:`recovery.data.mapping`,
table ``performance``) renames the lender's columns to the names below first.

**Input columns** (:data:`PERFORMANCE`): ``account_id``, ``month_end`` (any date in the
month, or ``YYYY-MM`` / ``YYYYMM``; read as that month's end; a lender's own format or
a month number relative to the extract is declared in the mapping), ``dpd`` *or*
``status_code`` (read with the ``encoding``). When the lender has them: ``balance``
(outstanding, currency; below zero a credit balance, read as zero exposure) and
``paid_amount`` (amount paid in the month, currency; ``paid_in_month`` is accepted too;
below zero when reversals exceed payments). A table of states alone — account, month,
code, what bureaus hand out — loads too: count-based results run on it, and those
that need amounts say which column they need. Optional: ``amount_overdue``,
``installment_amount`` (the monthly installment), ``status`` (the lender's account
status already mapped to ``open``, ``paid_off``, ``charged_off``, ``settled``,
``closed``; it wins over the status code), ``charge_off_date``, ``product_kind``
(``installment`` / ``revolving``; default from ``product``), and account attributes
repeated on each row (``customer_id``, ``product``, ``origination_date``,
``principal``, ``term_months``, ``interest_rate``, ``region``) that
:func:`accounts_from_performance` reads.

**Status encodings** (:func:`decode_status`; each row is tested):

=================  ======================  ==============  =======  ================
encoding           code                    DPD (days)      bucket   status
=================  ======================  ==============  =======  ================
``days_past_due``  d ≥ 0 (days)            d               of d     open;
                                                                    charged_off when
                                                                    d ≥ charge-off
``months_behind``  0, ``C`` (current)      0               M0       open
``months_behind``  k ≥ 1 months behind     30k − 15        of DPD   open; charged_off
                                                                    when DPD ≥
                                                                    charge-off (k ≥ 7)
``months_behind``  −1 (paid in full)       0               M0       open (paid_off at
                                                                    the end, below)
``months_behind``  −2, ``X`` (no use,      0               M0       open (paid_off at
                   inactive)                                        the end, below)
``bucket_label``   ``M0`` … ``M6``,        middle of the   as is    open; charged_off
                   ``M7+`` (config         bucket (M0: 0;                when the bucket
                   names), ``current``     M7+: last                starts at or
                                           edge + 15)               beyond charge-off
``bucket_label``   ``charged_off``,        see below       —        charged_off
                   ``co``, ``write_off``,
                   ``written_off``
``bucket_label``   ``paid_off``, ``pif``,  0               —        paid_off
                   ``paid``
``bucket_label``   ``settled``,            0               —        settled, closed
                   ``closed``
any encoding       ``charged_off``,        as above        —        as above
                   ``paid_off``,
                   ``settled``, ``closed``
=================  ======================  ==============  =======  ================

Codes are compared case-insensitively after trimming spaces. Any other lender code is
translated first with the mapping's ``codes: {status_code: {LENDER: CODE}}``.

**What month data cannot give exactly**, and what is used instead:

- *DPD* from a month code is an estimate: the middle of the arrears range (k months
  behind: 30k − 15 days, i.e. 15, 45, 75, …; a bucket label: the middle of the
  bucket's configured DPD range). The bucket read back from that DPD is the lender's.
- *Charge-off* (DESIGN.md §3): the first month whose DPD reaches the threshold of the
  account's product kind (``config.aging.charge_off_dpd``, or
  ``config.aging.charge_off_dpd_by_kind``), or whose code or ``status`` says so; from then on
  the account is ``charged_off`` (sticky) until a terminal status. A charged-off row
  without a day count reads DPD = charge-off DPD + 30 × months since the first
  charged-off month.
- *Paid off*: without a ``status`` column, an installment account whose history ends
  with a run of current months (DPD 0, codes 0/−1/−2) at a balance ≤
  ``config.aging.tolerance`` reads ``paid_off`` from the first month of that run —
  after a charge-off too (the debt was repaid). Never for a revolving account (a card
  without use this month is still an open card) nor without a balance (a status-only
  history): their trailing current months stay open; an explicit status or closure
  code still says paid off.
- *Amount overdue*: the ``amount_overdue`` column when given; else months behind
  (⌈DPD / 30⌉) × ``installment_amount``; else × the last amount paid in a month that
  ended current (a point-in-time proxy of the installment); capped at the balance;
  the whole balance when no proxy exists yet; the balance for charged-off rows.
- *Day-level quantities* are not produced: ``debt_age_days`` is left out (recovery by
  age derives it from month-end DPD, :func:`recovery.analytics.debt_age.derive_debt_age`;
  the ``debt_age_days`` feature is NA), and features that need event tables (contacts,
  promises, payment timing within the month) are not computed
  (:func:`recovery.timeline.snapshot_features.snapshot_features`).

Examples
--------
>>> perf = pd.DataFrame({"account_id": ["L1"] * 3, "month_end": ["2024-01", "2024-02", "2024-03"],
...     "status_code": ["0", "1", "2"], "balance": 900.0, "paid_amount": [100.0, 0.0, 0.0]})
>>> snaps = snapshots_from_performance(perf, encoding="months_behind")
>>> snaps[["month_end", "dpd", "bucket", "status"]].astype(str).values.tolist()
[['2024-01-31', '0', 'M0', 'open'], ['2024-02-29', '15', 'M1', 'open'], ['2024-03-31', '45', 'M2', 'open']]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.dates import date_shape, parse_dates
from recovery.data.portfolio import Portfolio
from recovery.data.schema import (
    NOTED,
    Column,
    TableSpec,
    check_amounts,
    column_names,
    product_kinds,
    read_negative_amounts,
)
from recovery.errors import DataError

__all__ = [
    "PERFORMANCE",
    "STATUS_ENCODINGS",
    "code_text",
    "as_code",
    "decode_status",
    "months_from_anchor",
    "read_months",
    "snapshots_from_performance",
    "accounts_from_performance",
    "portfolio_from_performance",
]

#: The ways a monthly table states delinquency (see the module docstring's table).
STATUS_ENCODINGS = ("days_past_due", "months_behind", "bucket_label")

#: Average days in a month (365.25 / 12).
DAYS_PER_MONTH = 365.25 / 12

_C = Column
#: Columns of a lender's monthly performance table after mapping (not a contract table:
#: :func:`snapshots_from_performance` turns it into ``snapshots``).
PERFORMANCE = TableSpec(
    "performance",
    "account × month",
    (
        _C("account_id", "id", description="loan identifier"),
        _C("month_end", "date", description="any date in the month, or YYYY-MM / YYYYMM"),
        _C("dpd", "int", required=False, min=0, description="days past due at month end"),
        _C("status_code", "str", required=False, description="delinquency code (encoding)"),
        _C(
            "balance",
            "float",
            required=False,
            min=0,
            money=True,
            negative="credit",
            description="outstanding balance (currency); below zero: a credit balance",
        ),
        _C(
            "paid_amount",
            "float",
            required=False,
            min=0,
            money=True,
            negative="kept",
            description="paid in the month (net of reversals)",
        ),
        _C(
            "paid_in_month",
            "float",
            required=False,
            min=0,
            money=True,
            negative="kept",
            description="= paid_amount",
        ),
        _C("amount_overdue", "float", required=False, min=0, money=True, description="currency"),
        _C(
            "installment_amount",
            "float",
            required=False,
            min=0,
            money=True,
            description="per month",
        ),
        _C("status", "cat:statuses", required=False, description="account status"),
        _C("charge_off_date", "date", required=False, nullable=True),
        _C("customer_id", "id", required=False),
        _C("product", "cat:products", required=False),
        _C(
            "product_kind",
            "cat:product_kind",
            required=False,
            description="installment or revolving (default: from the product)",
        ),
        _C("origination_date", "date", required=False),
        _C("principal", "float", required=False, strictly_positive=True, money=True),
        _C("term_months", "int", required=False, min=1),
        _C("interest_rate", "float", required=False, min=0),
        _C("region", "str", required=False),
    ),
    key=("account_id", "month_end"),
)

_CURRENT = ("0", "C")
_NO_USE = ("-2", "X")
_PAID_IN_FULL = ("-1",)
_STATUS_WORDS = ("charged_off", "paid_off", "settled", "closed")  # read in every encoding
_LABEL_STATUS = {
    "charged_off": "charged_off",
    "charge_off": "charged_off",
    "co": "charged_off",
    "write_off": "charged_off",
    "written_off": "charged_off",
    "wo": "charged_off",
    "paid_off": "paid_off",
    "paid": "paid_off",
    "pif": "paid_off",
    "settled": "settled",
    "closed": "closed",
}


def code_text(values: pd.Series | list) -> pd.Series:
    """A lender's codes as trimmed text, the form codes are compared and translated in.

    Each value becomes :func:`as_code` of it (``1.0`` read from a number column becomes
    ``"1"``); missing values stay missing. Each distinct value is converted once
    (vectorised over rows).

    Parameters
    ----------
    values : Series or list
        Codes as read: text, numbers or booleans.

    Returns
    -------
    pandas.Series
        Object dtype, aligned with ``values`` (same index); ``None`` where missing.

    Examples
    --------
    >>> code_text(pd.Series([4.0, " M2 ", None])).tolist()
    ['4', 'M2', None]
    """
    values = pd.Series(values)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    text = np.array([as_code(v) for v in uniques] + [None], dtype=object)
    return pd.Series(text[codes], index=values.index, dtype=object)


def as_code(value: object) -> str:
    """One code as trimmed text: a whole float loses its ``.0``, a boolean is lower case.

    Parameters
    ----------
    value : object
        One code as read (text, number or boolean; not missing).

    Returns
    -------
    str

    Examples
    --------
    >>> as_code(4.0), as_code(" TEL "), as_code(False)
    ('4', 'TEL', 'false')
    """
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value)).lower()
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def decode_status(
    codes: pd.Series | list,
    encoding: str = "days_past_due",
    config: Config | None = None,
    kinds: pd.Series | np.ndarray | list | None = None,
) -> pd.DataFrame:
    """Read delinquency codes as DPD (days), bucket and status, one row per code.

    Parameters
    ----------
    codes : Series or list
        The lender's codes (text or numbers), one per row.
    encoding : {"days_past_due", "months_behind", "bucket_label"}
        How the codes state delinquency (see the table in :mod:`recovery.data.performance`).
    config : Config, optional
        Bucket edges and names, charge-off DPD (``config.aging``).
    kinds : array-like, optional
        The product kind of each row (``installment`` / ``revolving``), for a charge-off
        threshold per kind (``config.aging.charge_off_dpd_by_kind``); default: every
        row at ``config.aging.charge_off_dpd``.

    Returns
    -------
    pandas.DataFrame
        ``code`` (as text), ``dpd`` (float days; NaN for a charged-off label without a
        day count), ``bucket`` (None unless open), ``status`` (``open``, ``paid_off``,
        ``charged_off``, ``settled``, ``closed``) and ``current_code`` (True for codes
        0/C, −1 and −2/X, which may read ``paid_off`` at the end of an account's
        history), aligned with ``codes``.

    Raises
    ------
    DataError
        A code the encoding does not know (map it in the mapping file's ``codes``).

    Examples
    --------
    >>> decode_status(["C", "1", "7", "-1", "X"], "months_behind")[["dpd", "bucket", "status"]]
         dpd bucket       status
    0    0.0     M0         open
    1   15.0     M1         open
    2  195.0   None  charged_off
    3    0.0     M0         open
    4    0.0     M0         open
    >>> decode_status(["M2", "current", "write_off"], "bucket_label")["dpd"].tolist()
    [45.0, 0.0, nan]
    """
    config = config or Config()
    if encoding not in STATUS_ENCODINGS:
        raise DataError(
            f"unknown status encoding {encoding!r}; use one of {list(STATUS_ENCODINGS)}"
        )
    series = pd.Series(codes).reset_index(drop=True)
    missing = series.isna().to_numpy()
    if missing.any():
        raise DataError(
            f"{int(missing.sum())} row(s) have no delinquency code (rows "
            f"{list(np.flatnonzero(missing)[:5])}); fill them or drop those rows"
        )
    text = code_text(series)
    uniques = pd.unique(text.dropna())
    table = _decode_unique(uniques, encoding, config)
    idx = pd.Index(uniques).get_indexer(text)
    out = pd.DataFrame({"code": text})
    fills = {"dpd": np.nan, "bucket": None, "status": None, "current_code": False}
    for col, fill in fills.items():
        values = np.asarray([*table[col], fill], dtype=object)  # last: rows without a code
        out[col] = pd.Series(values[np.where(idx >= 0, idx, len(values) - 1)], dtype=object)
    out["dpd"] = out["dpd"].astype("float64")
    out["current_code"] = out["current_code"].astype(bool)
    if kinds is not None:  # the threshold of each row's product kind
        threshold = config.aging.charge_off_dpd_for(np.asarray(kinds, dtype=object))
        dpd = out["dpd"].to_numpy()
        by_dpd = ~np.isnan(dpd) & out["status"].isin(["open", "charged_off"]).to_numpy()
        charged = by_dpd & (dpd >= threshold)
        status = np.where(by_dpd, np.where(charged, "charged_off", "open"), out["status"])
        out["status"] = pd.Series(status, dtype=object)
        bucket = config.aging.bucket_of(np.nan_to_num(dpd))
        out["bucket"] = pd.Series(
            np.where(by_dpd, np.where(charged, None, bucket), out["bucket"]), dtype=object
        )
    return out


def _decode_unique(codes: np.ndarray, encoding: str, config: Config) -> dict[str, list]:
    """The decoding of each distinct code (a handful): dpd, bucket, status."""
    aging = config.aging
    edges = list(aging.bucket_edges)
    names = list(aging.bucket_names)
    by_name = {n.lower(): i for i, n in enumerate(names)}
    dpd: list[float] = []
    bucket: list[str | None] = []
    status: list[str] = []
    current: list[bool] = []
    bad: list[str] = []
    for code in codes:  # distinct codes only
        upper = str(code).strip().upper()
        d, b, s, cur = np.nan, None, "open", False
        if encoding != "bucket_label" and upper.lower() in _STATUS_WORDS:  # any encoding
            s = upper.lower()
            d = np.nan if s == "charged_off" else 0.0
        elif encoding == "days_past_due":
            value = pd.to_numeric(upper, errors="coerce")
            if pd.isna(value) or value < 0:
                bad.append(code)
            else:
                d = float(value)
                cur = d == 0
        elif encoding == "months_behind":
            if upper in _CURRENT or upper in _NO_USE or upper in _PAID_IN_FULL:
                d, cur = 0.0, True
            else:
                value = pd.to_numeric(upper, errors="coerce")
                if pd.isna(value) or value != np.floor(value) or value < 0:
                    bad.append(code)
                else:
                    d = 30.0 * value - 15.0 if value > 0 else 0.0
                    cur = d == 0
        else:  # bucket_label
            lower = upper.lower()
            if lower in ("current", "curr", "c"):
                lower = names[0].lower()
            if lower in by_name:
                i = by_name[lower]
                if i == 0:
                    d, cur = 0.0, True
                elif i < len(edges):
                    d = float((edges[i - 1] + 1 + edges[i]) // 2)
                else:
                    d = float(edges[-1] + 15)
            elif lower in _LABEL_STATUS:
                s = _LABEL_STATUS[lower]
                d = np.nan if s == "charged_off" else 0.0
            else:
                bad.append(code)
        if s == "open" and not np.isnan(d):
            if d >= aging.charge_off_dpd:
                s = "charged_off"
            else:
                b = str(aging.bucket_of(d))
        dpd.append(d)
        bucket.append(b)
        status.append(s)
        current.append(cur)
    if bad:
        raise DataError(
            f"status code(s) {sorted(map(str, bad))[:10]} are not {encoding} codes; translate "
            "them in the mapping file (codes: {status_code: {CODE: …}}) or choose another "
            f"status_encoding ({', '.join(STATUS_ENCODINGS)})"
        )
    return {"dpd": dpd, "bucket": bucket, "status": status, "current_code": current}


def read_months(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Month end of each value: a date, ``YYYY-MM`` or ``YYYYMM`` (each distinct value once).

    Parameters
    ----------
    values : Series
        Dates, or text / whole numbers in one of those forms.

    Returns
    -------
    month_end : Series
        ``datetime64[ns]``, the last day of each value's month (NaT where unreadable).
    bad : Series of bool
        Present values in none of those forms.

    Examples
    --------
    >>> ends, bad = read_months(pd.Series(["202401", "2024-02", "2024-03-15", "03/2024"]))
    >>> ends.dt.strftime("%Y-%m-%d").tolist(), bad.tolist()
    (['2024-01-31', '2024-02-29', '2024-03-31', nan], [False, False, False, True])
    """
    values = pd.Series(values)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    distinct = pd.Series(uniques)
    bad = pd.Series(False, index=distinct.index)
    if pd.api.types.is_datetime64_any_dtype(distinct):
        parsed = pd.to_datetime(distinct)
        if parsed.dt.tz is not None:
            parsed = parsed.dt.tz_localize(None)
    else:
        text = code_text(distinct)
        compact = text.str.fullmatch(r"\d{6}").fillna(False).astype(bool)
        parsed = pd.Series(pd.NaT, index=distinct.index, dtype="datetime64[ns]")
        if compact.any():
            parsed[compact] = pd.to_datetime(text[compact], format="%Y%m", errors="coerce")
        rest = ~compact & text.notna()
        if rest.any():
            parsed[rest] = parse_dates(distinct[rest])[0]
        bad = text.notna() & parsed.isna()
    ends = parsed.dt.to_period("M").dt.to_timestamp(how="end").dt.normalize()
    table = np.append(ends.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT", "ns"))
    flags = np.append(bad.to_numpy(dtype=bool), False)
    return (
        pd.Series(table[codes], index=values.index, dtype="datetime64[ns]"),
        pd.Series(flags[codes], index=values.index),
    )


def _month_ends(values: pd.Series) -> pd.Series:
    """:func:`read_months`, refusing what it cannot read and naming the format seen.

    A month number relative to the extract (``0``, ``-1``, …) needs ``month_anchor`` in
    the mapping, a lender's own date format ``date_format``.
    """
    ends, bad = read_months(values)
    if bad.any():
        text = code_text(pd.Series(values)[bad.to_numpy()])
        if text.str.fullmatch(r"[+-]?\d{1,3}").fillna(False).all():
            raise DataError(
                f"performance: month_end holds month numbers relative to the extract "
                f"(e.g. {pd.unique(text)[:3].tolist()}), not dates; give the month numbered "
                "0 as month_anchor: YYYY-MM under tables.performance in the mapping file"
            )
        raise DataError(
            f"performance: month_end has {int(bad.sum())} value(s) that are not dates; "
            f"format seen {date_shape(text)}; use YYYY-MM-DD, YYYY-MM or YYYYMM, or "
            "declare the lender's format with date_format in the mapping file"
        )
    return ends


def months_from_anchor(values: pd.Series, anchor: pd.Period) -> tuple[pd.Series, pd.Series]:
    """Month ends of month numbers relative to an anchor month (0 = the anchor).

    Bureau and warehouse extracts often number months back from the extract month
    (``0``, ``-1``, ``-2``, …): the mapping's ``month_anchor`` names month 0.

    Parameters
    ----------
    values : Series
        Whole numbers (as numbers or text); missing values stay missing.
    anchor : pandas.Period
        The month numbered 0.

    Returns
    -------
    month_end : Series
        ``datetime64[ns]``, the last day of each month.
    bad : Series of bool
        Present values that are not whole numbers.

    Examples
    --------
    >>> ends, bad = months_from_anchor(pd.Series([0, -1, "-13", "x"]), pd.Period("2024-02", "M"))
    >>> ends.dt.strftime("%Y-%m-%d").tolist(), bad.tolist()
    (['2024-02-29', '2024-01-31', '2023-01-31', nan], [False, False, False, True])
    """
    values = pd.Series(values)
    number = pd.to_numeric(code_text(values), errors="coerce")
    whole = number.notna() & np.isfinite(number) & (number == np.floor(number.fillna(0)))
    bad = values.notna() & ~whole
    base = anchor.year * 12 + anchor.month - 1
    month_no = (base + number.where(whole, 0).astype("int64")).to_numpy()
    first_of_next = (month_no + 1 - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    ends = pd.Series((first_of_next - np.timedelta64(1, "D")).astype("datetime64[ns]"))
    ends.index = values.index
    return ends.where(whole), bad


def snapshots_from_performance(
    frame: pd.DataFrame, encoding: str = "days_past_due", config: Config | None = None
) -> pd.DataFrame:
    """The ``snapshots`` table of a monthly performance table (after column mapping).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per account and month with the columns of :data:`PERFORMANCE`:
        ``account_id``, ``month_end``, ``dpd`` or ``status_code``; optional
        ``balance``, ``paid_amount`` (or ``paid_in_month``), ``amount_overdue``,
        ``installment_amount``, ``status``, ``charge_off_date``, ``product`` and
        ``product_kind``. A table of states alone (no balance, no payments — what
        bureaus hand out) gives ``snapshots`` without the amount columns: count-based
        results run on it; amount-based ones say which column they need.
    encoding : {"days_past_due", "months_behind", "bucket_label"}
        How ``status_code`` (or ``dpd``) states delinquency; see the table in
        :mod:`recovery.data.performance`. With ``days_past_due`` the ``dpd`` column is read
        when present.
    config : Config, optional
        Buckets, charge-off DPD (per product kind) and the small-balance tolerance
        (``config.aging``); the kinds of product codes (``config.categories``); the
        ceiling of amounts (``config.data.max_amount``).

    Returns
    -------
    pandas.DataFrame
        The contract's ``snapshots`` columns (``account_id, month_end, dpd, bucket,
        balance, amount_overdue, paid_in_month, status``; the amounts only when the
        input has a balance / payments; ``charge_off_date`` and ``credit_balance`` when
        given or found), sorted by account and month end; DPD is an estimate for month
        codes (module docstring). Account columns of the input (``product``, …) are
        kept.

    Raises
    ------
    DataError
        A required column is missing, a code is unknown, a month is not a date, or an
        account has two rows for one month.
    ValidationError
        An amount is infinite or beyond ``config.data.max_amount``.

    Examples
    --------
    >>> perf = pd.DataFrame({"account_id": "L1", "month_end": ["2024-01-31", "2024-02-29"],
    ...     "dpd": [0, 0], "balance": [50.0, 0.0], "paid_amount": [50.0, 50.0]})
    >>> snapshots_from_performance(perf)[["dpd", "bucket", "status"]].values.tolist()
    [[0, 'M0', 'open'], [0, None, 'paid_off']]

    Status only (a bureau file): no amounts, no paid-off inference.

    >>> codes = pd.DataFrame({"account_id": "L1", "month_end": ["2024-01", "2024-02"],
    ...     "status_code": ["1", "C"]})
    >>> snapshots_from_performance(codes, "months_behind").columns.tolist()
    ['account_id', 'month_end', 'dpd', 'bucket', 'status']
    """
    config = config or Config()
    if encoding not in STATUS_ENCODINGS:
        raise DataError(
            f"unknown status encoding {encoding!r}; use one of {list(STATUS_ENCODINGS)}"
        )
    df = frame.reset_index(drop=True)
    if "paid_amount" not in df and "paid_in_month" in df:
        df = df.rename(columns={"paid_in_month": "paid_amount"})
    code_column = "dpd" if encoding == "days_past_due" and "dpd" in df else "status_code"
    needed = ["account_id", "month_end", code_column]
    missing = [c for c in needed if c not in df]
    if missing:
        what = "dpd (or status_code)" if code_column == "dpd" else "status_code"
        raise DataError(
            f"performance table lacks column(s) {missing}; it needs account_id, month_end "
            f"and {what} (balance and paid_amount when the lender has them; rename the "
            f"lender's columns in the mapping file's columns:). Columns present: "
            f"{list(df.columns)}"
        )
    check_amounts(PERFORMANCE, df, config)
    amounts = {
        c: pd.to_numeric(df[c], errors="coerce") for c in ("balance", "paid_amount") if c in df
    }
    df = read_negative_amounts(PERFORMANCE, df.assign(**amounts), config, stacklevel=3)
    has_balance = "balance" in df
    tol = config.aging.tolerance
    out = pd.DataFrame({"account_id": code_text(df["account_id"])})
    out["month_end"] = _month_ends(df["month_end"])
    dup = out.duplicated(["account_id", "month_end"], keep=False)
    if dup.any():
        ex = df.loc[dup, ["account_id", "month_end"]].head(4).to_dict("records")
        raise DataError(
            f"performance table has {int(dup.sum())} row(s) sharing an (account, month), "
            f"e.g. {ex}; keep one row per account and month"
        )
    kinds = product_kinds(df, config)
    decoded = decode_status(df[code_column], encoding, config, kinds)
    if has_balance:
        out["balance"] = df["balance"].astype("float64")
    if "paid_amount" in df:
        out["paid_in_month"] = df["paid_amount"].fillna(0.0).astype("float64")
    given = df["status"].astype(object).where(df["status"].notna()) if "status" in df else None
    out["_status"] = decoded["status"].astype(object)
    out["_dpd"] = decoded["dpd"]
    out["_current"] = decoded["current_code"].to_numpy()
    out["_revolving"] = kinds == "revolving"
    out["_co_dpd"] = config.aging.charge_off_dpd_for(kinds)
    if given is not None:
        out["_given"] = given.to_numpy()
    for col in ("amount_overdue", "installment_amount", "charge_off_date"):
        if col in df:
            out[f"_{col}"] = df[col].to_numpy()
    special = {"status", "status_code", "dpd", "balance", "paid_amount", "paid_in_month"}
    special |= {"amount_overdue", "installment_amount", "charge_off_date"}
    extras = [c for c in df.columns if c not in set(needed) | special]
    for col in extras:
        out[col] = df[col].to_numpy()
    out = out.sort_values(["account_id", "month_end"], kind="mergesort").reset_index(drop=True)
    account = out["account_id"]
    status = out["_status"].to_numpy(dtype=object)
    dpd = out["_dpd"].to_numpy(dtype="float64")
    if given is not None:
        g = out["_given"].to_numpy(dtype=object)
        status = np.where(pd.isna(g), status, g)
    elif has_balance:
        # paid off: the history ends with current months at a zero balance (also after a
        # charge-off: the debt was repaid); never for revolving credit, where a month
        # without use leaves the account open
        quiet = (out["_current"].to_numpy() | (dpd == 0)) & _at_most(out, tol) & (status == "open")
        quiet &= ~out["_revolving"].to_numpy()
        rev = pd.Series(quiet[::-1])  # run of quiet rows reaching the account's last row
        acc_rev = account.iloc[::-1].reset_index(drop=True)
        trailing = rev.astype(int).groupby(acc_rev).cumprod().to_numpy()[::-1].astype(bool)
        status = np.where(trailing, "paid_off", status)
    # charge-off is sticky (DESIGN.md §3) until a terminal status
    charged = pd.Series(status == "charged_off")
    ever_charged = charged.groupby(account).cummax().to_numpy()
    terminal = np.isin(status, ["paid_off", "settled", "closed"])
    status = np.where(ever_charged & ~terminal, "charged_off", status)
    status = status.astype(object)
    is_open = status == "open"
    is_charged = status == "charged_off"
    # DPD of charged-off rows without a day count: threshold + 30 per month since
    co_first = pd.Series(np.where(is_charged, out["month_end"].to_numpy(), np.datetime64("NaT")))
    co_first = co_first.groupby(account).transform("min")
    months_since = (
        (out["month_end"].dt.year - co_first.dt.year) * 12
        + (out["month_end"].dt.month - co_first.dt.month)
    ).to_numpy(dtype="float64")
    floor = out["_co_dpd"].to_numpy(dtype="float64") + 30.0 * np.nan_to_num(months_since)
    dpd = np.where(is_charged & (np.isnan(dpd) | (dpd < floor)), np.fmax(dpd, floor), dpd)
    dpd = np.where(is_open | is_charged, dpd, 0.0)
    if np.isnan(dpd).any():  # pragma: no cover - every decoded open code has a DPD
        raise DataError("performance: some rows have no DPD; check the status codes")
    out["dpd"] = np.round(dpd).astype("int64")
    out["bucket"] = pd.Series(
        np.where(is_open, config.aging.bucket_of(out["dpd"].to_numpy()), None), dtype=object
    )
    out["status"] = status
    if has_balance or "_amount_overdue" in out:
        out["amount_overdue"] = _amount_overdue(out, is_open, is_charged)
    if "_charge_off_date" in out:
        out["charge_off_date"] = pd.to_datetime(out["_charge_off_date"]).dt.normalize()
    columns = [c for c in column_names("snapshots") if c in out]
    columns += [c for c in extras if c not in columns]
    result = out[columns]
    result.attrs[NOTED] = ("balance", "paid_in_month")  # read (and noted) above
    return result


def _at_most(out: pd.DataFrame, tolerance: float) -> np.ndarray:
    """Rows whose balance is at or below the small-balance tolerance (currency)."""
    return (out["balance"].fillna(0.0) <= tolerance).to_numpy()


def _amount_overdue(out: pd.DataFrame, is_open: np.ndarray, is_charged: np.ndarray) -> np.ndarray:
    """Overdue amount (currency): given, else months behind x an installment (proxy).

    Without a balance only a given amount is known (NaN elsewhere).
    """
    if "balance" in out:
        balance = out["balance"].fillna(0.0).to_numpy(dtype="float64")
    else:
        balance = np.full(len(out), np.nan)
    if "_amount_overdue" in out:
        given = pd.to_numeric(out["_amount_overdue"], errors="coerce").to_numpy(dtype="float64")
    else:
        given = np.full(len(out), np.nan)
    months_behind = np.ceil(out["dpd"].to_numpy(dtype="float64") / 30.0)
    if "_installment_amount" in out:
        installment = pd.to_numeric(out["_installment_amount"], errors="coerce")
    else:
        installment = pd.Series(np.nan, index=out.index)
    # proxy: the last amount paid in a month that ended current, carried forward
    if "paid_in_month" in out:
        paid = out["paid_in_month"]
        current_paid = paid.where((out["dpd"] == 0) & is_open & (paid > 0))
        installment = installment.fillna(current_paid.groupby(out["account_id"]).ffill())
    installment = installment.to_numpy(dtype="float64")
    estimate = np.where(np.isnan(installment), balance, months_behind * installment)
    estimate = np.fmin(estimate, balance)
    estimate = np.where(is_open, estimate, 0.0)
    estimate = np.where(is_charged, balance, estimate)
    return np.where(np.isnan(given), estimate, given)


def accounts_from_performance(frame: pd.DataFrame, config: Config | None = None) -> pd.DataFrame:
    """A minimal ``accounts`` table from monthly data, for a lender that gives none.

    One row per account, from its rows in ``frame`` (a performance table after mapping,
    or the ``snapshots`` made from it). Columns the monthly table carries are used (the
    first row of the account); the others are **proxies**, so that the table passes the
    contract. Each proxy is known at the account's first month (none looks ahead, so
    the account features built from them do not leak the future):

    ================  ===========================================================
    column            when the monthly table lacks it
    ================  ===========================================================
    customer_id       the account id (one borrower per account)
    product           the first of ``config.categories.products``
    origination_date  the first month end seen (a proxy: the loan may be older)
    principal         the balance at the first month seen (at least 0.01; currency);
                      1.0 for status-only data (unknown: a constant placeholder)
    term_months       1 (unknown: a constant placeholder)
    interest_rate     0.0 (unknown: a constant placeholder)
    product_kind      kept when the monthly table carries it
    ================  ===========================================================

    Examples
    --------
    >>> perf = pd.DataFrame({"account_id": ["L1", "L1"],
    ...     "month_end": pd.to_datetime(["2024-01-31", "2024-02-29"]), "balance": [900.0, 800.0]})
    >>> accounts_from_performance(perf)[["account_id", "origination_date", "principal",
    ...     "term_months"]].astype(str).values.tolist()
    [['L1', '2024-01-31', '900.0', '1']]
    """
    config = config or Config()
    df = frame.copy()
    df["account_id"] = code_text(df["account_id"])
    df["month_end"] = _month_ends(df["month_end"])
    df = df.sort_values(["account_id", "month_end"], kind="mergesort")
    groups = df.groupby("account_id", sort=True)
    first = groups.first()
    out = pd.DataFrame({"account_id": first.index.to_numpy()})
    out["customer_id"] = (
        first["customer_id"].astype(str).to_numpy() if "customer_id" in first else out["account_id"]
    )
    products = config.categories.products
    out["product"] = first["product"].to_numpy() if "product" in first else products[0]
    out["origination_date"] = (
        pd.to_datetime(first["origination_date"]).dt.normalize().to_numpy()
        if "origination_date" in first
        else groups["month_end"].min().to_numpy()
    )
    if "principal" in first:
        out["principal"] = first["principal"].to_numpy()
    elif "balance" in df:
        balance = pd.to_numeric(df["balance"], errors="coerce").fillna(0.0)
        out["principal"] = balance.groupby(df["account_id"]).first().clip(lower=0.01).to_numpy()
    else:
        out["principal"] = 1.0
    out["term_months"] = first["term_months"].to_numpy() if "term_months" in first else 1
    out["interest_rate"] = first["interest_rate"].to_numpy() if "interest_rate" in first else 0.0
    for col in ("product_kind", "region"):
        if col in first:
            out[col] = first[col].to_numpy()
    order = ["account_id", "customer_id", "product", "origination_date", "principal"]
    order += ["term_months", "interest_rate"]
    order += [c for c in ("product_kind", "region") if c in out]
    return out[order].reset_index(drop=True)


def portfolio_from_performance(
    frame: pd.DataFrame,
    encoding: str = "days_past_due",
    accounts: pd.DataFrame | None = None,
    config: Config | None = None,
    meta: dict | None = None,
) -> Portfolio:
    """A snapshot-only :class:`~recovery.data.portfolio.Portfolio` from monthly data.

    ``snapshots`` from :func:`snapshots_from_performance`; ``accounts`` as given, or
    :func:`accounts_from_performance` when ``None``; ``meta['data_end']`` defaults to the
    last month end.

    Examples
    --------
    >>> perf = pd.DataFrame({"account_id": "L1", "month_end": ["2024-01", "2024-02"],
    ...     "status_code": ["M0", "M1"], "balance": 500.0, "paid_amount": 0.0})
    >>> pf = portfolio_from_performance(perf, "bucket_label")
    >>> pf, pf.meta["data_end"]
    (Portfolio(accounts=1, snapshots=2), '2024-02-29')
    """
    snaps = snapshots_from_performance(frame, encoding, config)
    if accounts is None:
        accounts = accounts_from_performance(snaps, config)
    meta = dict(meta or {})
    if not meta.get("data_end") and len(snaps):
        meta["data_end"] = str(snaps["month_end"].max().date())
    return Portfolio(accounts=accounts, snapshots=snaps, meta=meta)
