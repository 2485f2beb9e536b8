"""The month's action rows of the simulated operation, as a dict of column arrays.

A chunk-month's actions are held as ``{"acc", "ts", "chan", "out", ...}``: equal-length
arrays of the worked account (an index into :attr:`MonthWork.rows
<recovery.simulate.operation.state.MonthWork>`), the time (seconds since 1970-01-01),
the channel and outcome codes and flags. These functions select, join and order such
rows, and join them with the last week of the previous month (the rolling contact
limits look back seven days).

Examples
--------
>>> import numpy as np
>>> rows = {"acc": np.array([1, 0, 1]), "ts": np.array([5, 9, 5])}
>>> sort_rows(rows, np.array([10, 20]))["ts"].tolist()  # account 0 (pos 10) is acc 0
[9, 5, 6]
"""

from __future__ import annotations

import numpy as np

from recovery.docstrings import fill_doc
from recovery.simulate.operation.state import DAY, NONE, WEEK, ChunkState

__all__ = [
    "take_rows",
    "concat_rows",
    "first_per_account",
    "sort_rows",
    "with_tail",
    "tail_rows",
]


@fill_doc
def take_rows(rows: dict, keep: np.ndarray) -> dict:
    """The rows selected by a mask or an index array, every column alike.

    Parameters
    ----------
    {{op_rows}}
    keep : ndarray of bool or int

    Returns
    -------
    dict of ndarray
    """
    return {k: v[keep] for k, v in rows.items()}


def concat_rows(parts: list[dict]) -> dict:
    """Rows of several parts one after another (columns of the first part).

    Parameters
    ----------
    parts : list of dict of ndarray
        At least one part.

    Returns
    -------
    dict of ndarray
    """
    keys = parts[0].keys()
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


def first_per_account(pos: np.ndarray, mask: np.ndarray, n: int, values: np.ndarray) -> np.ndarray:
    """First value (rows sorted by pos, ts) of the rows in ``mask``, per account; -1 if none.

    Parameters
    ----------
    pos : ndarray of int
        Account of each row (0 … n-1).
    mask : ndarray of bool
        Rows that count.
    n : int
        Number of accounts.
    values : ndarray of int
        Value of each row.

    Returns
    -------
    ndarray of int64
        One value per account.
    """
    out = np.full(n, NONE, np.int64)
    rows = np.flatnonzero(mask)[::-1]  # reversed so the first row wins the assignment
    out[pos[rows]] = values[rows]
    return out


@fill_doc
def sort_rows(rows: dict, wpos: np.ndarray) -> dict:
    """Sort by (account, ts) and make timestamps unique per account (+1 s per tie).

    Parameters
    ----------
    rows : dict of ndarray
        With ``acc`` (index into ``wpos``) and ``ts``.
    {{op_wpos}}

    Returns
    -------
    dict of ndarray
    """
    for _ in range(10):
        key = wpos[rows["acc"]] if len(rows["acc"]) else rows["acc"]
        order = np.lexsort((rows["ts"], key))
        rows = take_rows(rows, order)
        key = key[order]
        same = np.zeros(len(key), bool)
        same[1:] = (key[1:] == key[:-1]) & (rows["ts"][1:] == rows["ts"][:-1])
        if not same.any():
            break
        idx = np.arange(len(key))
        run_start = np.maximum.accumulate(np.where(~same, idx, 0))
        rows["ts"] = rows["ts"] + (idx - run_start)
    return rows


@fill_doc
def with_tail(ch: ChunkState, rows: dict, wpos: np.ndarray) -> tuple[dict, np.ndarray]:
    """This month's rows plus last month's tail, sorted by account position and time.

    Parameters
    ----------
    ch : ChunkState
        Its ``tail`` (:func:`tail_rows` of last month) is joined.
    rows : dict of ndarray
        This month's rows.
    {{op_wpos}}

    Returns
    -------
    (dict of ndarray, ndarray)
        The joined rows (``pos``, ``ts``, ``chan``, ``out``, ``history`` — True for the
        tail — and ``row``, the index into ``rows`` or -1) and the sorting order.
    """
    cur = {
        "pos": wpos[rows["acc"]],
        "ts": rows["ts"],
        "chan": rows["chan"],
        "out": rows["out"],
        "history": np.zeros(len(rows["ts"]), bool),
        "row": np.arange(len(rows["ts"])),
    }
    if ch.tail is not None and len(ch.tail["ts"]):
        t = ch.tail
        hist = {
            "pos": t["pos"],
            "ts": t["ts"],
            "chan": t["chan"],
            "out": t["out"],
            "history": np.ones(len(t["ts"]), bool),
            "row": np.full(len(t["ts"]), -1),
        }
        cur = concat_rows([hist, cur])
    order = np.lexsort((cur["ts"], cur["pos"]))
    return take_rows(cur, order), order


@fill_doc
def tail_rows(rows: dict, wpos: np.ndarray, me_day: int) -> dict:
    """The rows of the month's last seven days, kept for next month's rolling limits.

    Parameters
    ----------
    {{op_rows}}
    {{op_wpos}}
    me_day : int
        Last day of the month (days since 1970-01-01).

    Returns
    -------
    dict of ndarray
        ``pos``, ``ts``, ``chan``, ``out``.
    """
    keep = rows["ts"] >= (me_day + 1) * DAY - WEEK
    return {
        "pos": wpos[rows["acc"][keep]],
        "ts": rows["ts"][keep],
        "chan": rows["chan"][keep],
        "out": rows["out"][keep],
    }
