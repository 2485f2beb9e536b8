"""What the collection operation remembers about a chunk of accounts, month to month.

:class:`ChunkState` holds, per account of a chunk (arrays by position in the chunk), the
open assignment spell, agency placements, pending and due promises, open disputes,
hardship plans, known deaths, the limitation clock and the rows recorded for the
tables. :class:`MonthWork` names the accounts worked in one chunk-month.
:func:`snapshot` and :func:`restore` let the truth replay a month with other random
draws and leave everything as it was. Times are seconds (:data:`DAY`, :data:`WEEK`)
or days since 1970-01-01.

Examples
--------
>>> ch = ChunkState(3)
>>> saved = snapshot(ch)
>>> ch.broken[0] = 2
>>> ch.events.append({})
>>> restore(ch, saved)
>>> int(ch.broken[0]), len(ch.events)
(0, 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from recovery.docstrings import fill_doc, register
from recovery.simulate.hooks import MonthState

__all__ = [
    "DAY",
    "WEEK",
    "NONE",
    "FAR",
    "day_number",
    "ChunkState",
    "MonthWork",
    "snapshot",
    "restore",
]

# parameter descriptions the modules of the package share (see recovery.docstrings)
register(
    op_chunk="""\
ch : ChunkState
    The chunk's bookkeeping (:class:`~recovery.simulate.operation.state.ChunkState`).""",
    op_work="""\
work : MonthWork
    The worked accounts of the chunk-month (:class:`~recovery.simulate.operation.state.MonthWork`).""",
    op_rows="""\
rows : dict of ndarray
    The month's actions (:mod:`recovery.simulate.operation.rows`).""",
    op_wpos="""\
wpos : ndarray of int
    Chunk position of each worked account.""",
    op_pos="""\
pos : ndarray of int
    Chunk position of each account of ``state``.""",
    op_cfg="""\
cfg : ComplianceConfig
    The contact rules (``config.compliance``).""",
    op_state="""\
state : MonthState
    The month's state (all live accounts of the chunk).""",
    op_worked_rows="""\
rows : ndarray of int
    Positions in ``state`` of the worked accounts (delinquent or charged off).""",
    op_group="""\
group : ndarray of int
    Policy group (:data:`recovery.simulate.contacts.GROUPS`).""",
    op_arm="""\
arm : ndarray of int
    Experiment arm of the account's spell (:data:`recovery.simulate.contacts.ARMS`;
    1 = champion).""",
    op_agent="""\
agent : ndarray of int
    Row of the holding agent in the roster (``operation.agents``).""",
)

#: Seconds in a day and in a week.
DAY = 86_400
WEEK = 7 * DAY
#: "No value" of the integer arrays (no agent, no promise, no day).
NONE = -1
#: A time after every simulated one (seconds or days).
FAR = np.int64(1) << 40


def day_number(ts: Any) -> int:
    """Days from 1970-01-01 to a date.

    Parameters
    ----------
    ts : date-like

    Returns
    -------
    int

    Examples
    --------
    >>> day_number("1970-01-11")
    10
    """
    return int((pd.Timestamp(ts) - pd.Timestamp("1970-01-01")) // pd.Timedelta(days=1))


class ChunkState:
    """Per-account bookkeeping of one chunk (arrays by position in the chunk).

    Parameters
    ----------
    n : int
        Accounts in the chunk.
    """

    def __init__(self, n: int):
        self.n = n
        i64 = lambda v: np.full(n, v, np.int64)  # noqa: E731
        # customer code of each account (accounts sharing one are one borrower) and
        # whether any customer of the chunk holds several loans
        self.customer = np.arange(n, dtype=np.int64)
        self.multi_loan = False
        self.cur_agent = i64(NONE)
        self.cur_team = np.full(n, NONE, np.int8)
        self.spell_start = i64(0)
        self.spell_arm = np.full(n, 1, np.int8)
        self.spell_difficulty = np.zeros(n)
        self.placed_until = i64(NONE)  # month index when an agency placement ends
        self.place_next = np.zeros(n, bool)
        self.ever_sued = np.zeros(n, bool)
        self.broken = np.zeros(n, np.int16)
        self.prom_day = i64(NONE)  # promised day (days since epoch) of a pending promise
        self.prom_row = i64(NONE)  # its promise record
        self.prom_keep = np.zeros(n)
        self.check_row = i64(NONE)  # promise due last month, to be checked
        self.check_dom = np.zeros(n, np.int64)
        self.dispute_until = i64(0)  # first day contacts are allowed again
        self.hardship_from = i64(0)
        self.hardship_until = i64(0)
        self.death_known = np.zeros(n, bool)
        self.restart = i64(NONE)  # last restart of the limitation clock by the operation
        self.last_pay = i64(NONE)  # last posted payment (day)
        self.tail: dict | None = None  # rows of the last 7 days of the previous month
        self.rows: list[dict] = []
        self.spells: list[dict] = []
        self.promises: list[dict] = []
        self.promise_results: list[dict] = []
        self.events: list[dict] = []
        self.months: list[dict] = []
        self.seq = 0


@fill_doc
@dataclass
class MonthWork:
    """The worked accounts of one chunk-month (delinquent or charged off) and its days.

    Attributes
    ----------
    {{op_state}}
    month : int
        Month index.
    start_day, end_day : int
        First and last day of the month (days since 1970-01-01).
    n_days : int
        Days in the month.
    {{op_worked_rows}}
    pos : ndarray of int
        Their positions in the chunk (the arrays of :class:`ChunkState`).
    {{op_agent}}
    {{op_arm}}
    {{op_group}}
    """

    state: MonthState
    month: int
    start_day: int
    end_day: int
    n_days: int
    rows: np.ndarray
    pos: np.ndarray
    agent: np.ndarray
    arm: np.ndarray
    group: np.ndarray


def snapshot(obj: Any) -> dict:
    """Copy of an object's attributes: arrays and dicts copied, lists by length.

    Parameters
    ----------
    obj : object
        A :class:`ChunkState` or the operation itself.

    Returns
    -------
    dict
        What :func:`restore` needs to put ``obj`` back.
    """
    saved = {}
    for k, v in vars(obj).items():
        if isinstance(v, np.ndarray):
            saved[k] = v.copy()
        elif isinstance(v, list):
            saved[k] = len(v)
        elif isinstance(v, dict):
            saved[k] = dict(v)
        else:
            saved[k] = v
    return saved


def restore(obj: Any, saved: dict) -> None:
    """Put an object back as :func:`snapshot` found it (lists cut back to their length).

    Parameters
    ----------
    obj : object
    saved : dict
        From :func:`snapshot` of the same object; attributes added since are removed.
    """
    for k, v in saved.items():
        current = getattr(obj, k)
        if isinstance(current, list) and isinstance(v, int):
            del current[v:]
        elif isinstance(v, np.ndarray):
            setattr(obj, k, v.copy())
        elif isinstance(v, dict):
            setattr(obj, k, dict(v))
        else:
            setattr(obj, k, v)
    for k in set(vars(obj)) - set(saved):
        delattr(obj, k)
