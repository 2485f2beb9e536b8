"""The tables a mapping file may name, their columns, and the codes each coded column takes.

A mapping file (:mod:`recovery.data.mapping`) maps a lender's tables onto the contract's
(:mod:`recovery.data.contract`) and the monthly ``performance`` table
(:data:`recovery.data.performance.PERFORMANCE`). This module says what each of them
is mapped to; :mod:`recovery.data.mapping` and :mod:`recovery.data.starter_mapping`
both read it.

Examples
--------
>>> coded_columns("performance")["status_code"]
'status_code'
"""

from __future__ import annotations

from recovery.config import Config
from recovery.data.contract import TABLES, TableSpec, allowed_categories
from recovery.data.performance import PERFORMANCE, as_code, decode_status
from recovery.data.portfolio import TABLE_ORDER
from recovery.errors import DataError

__all__ = ["MAPPING_TABLES", "table_spec", "coded_columns", "allowed_codes", "known_status_codes"]

#: Table names a mapping may use: the contract's tables and ``performance``.
MAPPING_TABLES = (*TABLE_ORDER, "performance")


def table_spec(name: str) -> TableSpec:
    """The columns a mapping table is mapped to.

    Parameters
    ----------
    name : str
        A contract table or ``performance`` (one of :data:`MAPPING_TABLES`).

    Returns
    -------
    TableSpec
        The contract table's spec, or :data:`recovery.data.performance.PERFORMANCE`.

    Examples
    --------
    >>> table_spec("performance").key, table_spec("payments").name
    (('account_id', 'month_end'), 'payments')
    """
    return PERFORMANCE if name == "performance" else TABLES[name]


def coded_columns(name: str) -> dict[str, str]:
    """Contract columns of a mapping table that hold codes, with the kind of their categories.

    Parameters
    ----------
    name : str
        A contract table or ``performance``.

    Returns
    -------
    dict
        ``{column: kind}``; the kind is ``cat:<field>`` (``config.categories.<field>``),
        ``bucket`` (``config.aging`` bucket names) or ``status_code`` (read by the
        table's status encoding).

    Examples
    --------
    >>> coded_columns("payments")
    {'channel': 'cat:payment_channels'}
    """
    out = {c.name: c.kind for c in table_spec(name).columns if c.kind.startswith("cat:")}
    if name == "snapshots":
        out["bucket"] = "bucket"
    if name == "performance":
        out["status_code"] = "status_code"
    return out


def allowed_codes(kind: str, config: Config) -> tuple[str, ...]:
    """The contract categories a coded column of ``kind`` may hold.

    Parameters
    ----------
    kind : str
        ``cat:<field>``, ``bucket`` or ``status_code`` (see :func:`coded_columns`).
    config : Config
        Categories and bucket names.

    Returns
    -------
    tuple of str
        Empty for ``status_code``: its codes are read by the status encoding
        (:func:`known_status_codes`).

    Examples
    --------
    >>> allowed_codes("bucket", Config())[:3]
    ('M0', 'M1', 'M2')
    """
    if kind == "bucket":
        return tuple(config.aging.bucket_names)
    return allowed_categories(kind, config) or ()


def known_status_codes(codes: list, encoding: str, config: Config) -> set[str]:
    """Which of a handful of delinquency codes a status encoding reads.

    Parameters
    ----------
    codes : list
        Distinct codes (text or numbers).
    encoding : str
        One of :data:`recovery.data.performance.STATUS_ENCODINGS`.
    config : Config
        Bucket names (for ``bucket_label``).

    Returns
    -------
    set of str
        The codes the encoding reads, as text (:func:`recovery.data.performance.as_code`).

    Examples
    --------
    >>> sorted(known_status_codes(["M1", "X9", "current"], "bucket_label", Config()))
    ['M1', 'current']
    """
    ok = set()
    for code in codes:
        try:
            decode_status([code], encoding, config)
        except DataError:
            continue
        ok.add(as_code(code))
    return ok
