"""The simulated operation's records and the tables assembled from them.

Each observed month :func:`record_month` keeps the actions (with stated reasons and
recorded attitudes) and the worked account-months as compact arrays in the
:class:`~recovery.simulate.operation.state.ChunkState`; when the chunk ends,
:func:`chunk_arrays` joins them and :func:`chunk_frames` turns them into the contract
tables (``actions``, ``assignments``, ``events``) and the truth tables
(``truth_violations``, ``truth_promises``, ``truth_spells``,
``truth_operation_months``) with their ids. The book-level truth tables
(``truth_agents``, ``truth_operation_params``, ``truth_contact_effects``) come from
the other functions here.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd

from recovery.docstrings import fill_doc
from recovery.simulate import contacts as ct
from recovery.simulate.collectors import TEAMS
from recovery.simulate.operation.params import OperationParams
from recovery.simulate.operation.rows import concat_rows, take_rows
from recovery.simulate.operation.rules import RULE_BITS
from recovery.simulate.operation.state import DAY, ChunkState, MonthWork
from recovery.simulate.params import ARCHETYPES

__all__ = [
    "CHUNK_TABLES",
    "EVENT_NAMES",
    "record_month",
    "chunk_arrays",
    "chunk_frames",
    "agent_month_sums",
    "truth_agents_table",
    "operation_params_table",
    "contact_effects_table",
]


@fill_doc
def record_month(
    ch: ChunkState,
    work: MonthWork,
    rows: dict,
    mult: np.ndarray,
    p_op: tuple[np.ndarray, np.ndarray],
    agent_accuracy: np.ndarray,
    data_end_day: int,
) -> None:
    """Keep an observed month's actions and account-months for the tables.

    Each action gets the reason the borrower states and the attitude the agent
    records (right with the agent's accuracy); injected actions get neither.
    Actions after the data end are dropped.

    Parameters
    ----------
    ch : ChunkState
        ``rows`` and ``months`` are appended to.
    {{op_work}}
    rows : dict of ndarray
        The month's actions, labelled.
    mult : ndarray
        Odds multiplier per live account.
    p_op : (ndarray, ndarray)
        P(pay) per worked account with the operation and with an average agent.
    agent_accuracy : ndarray of float
        Per agent: probability of recording the borrower's true type.
    data_end_day : int
        Last day of the tables (days since 1970-01-01).
    """
    state, w, wpos, agent = work.state, work.rows, work.pos, work.agent
    m, arm, wgroup = work.month, work.arm, work.group
    acc = rows["acc"]
    keep = rows["ts"] // DAY <= data_end_day
    att_acc = np.asarray(state.archetype)[w][acc]
    rng = state.rng
    reason = ct.stated_reasons(rows["out"], att_acc, np.asarray(state.shock_type)[w][acc], rng)
    attitude = ct.recorded_attitudes(rows["out"], att_acc, agent_accuracy[agent[acc]], rng)
    injected = rows["injected"]
    reason = np.where(injected, -1, reason)
    attitude = np.where(injected, -1, attitude)
    ch.rows.append(
        {
            "pos": wpos[acc][keep].astype(np.int32),
            "agent": agent[acc][keep].astype(np.int32),
            "ts": rows["ts"][keep],
            "chan": rows["chan"][keep],
            "out": rows["out"][keep],
            "promise_day": rows["promise_day"][keep].astype(np.int32),
            "promise_amount": rows["promise_amount"][keep],
            "promise_seq": rows["promise_seq"][keep],
            "reason": reason[keep].astype(np.int8),
            "attitude": attitude[keep].astype(np.int8),
            "bits": rows["bits"][keep],
        }
    )
    n_actions = np.bincount(acc, minlength=len(wpos))
    ch.months.append(
        {
            "pos": wpos.astype(np.int32),
            "month": np.full(len(wpos), m, np.int32),
            "agent": agent.astype(np.int32),
            "arm": arm.astype(np.int8),
            "group": wgroup.astype(np.int8),
            "n_actions": n_actions.astype(np.int32),
            "odds_multiplier": mult[w].astype(np.float32),
            "p_pay_base": np.asarray(state.p_pay_base)[w].astype(np.float32),
            "p_pay_operation": p_op[0].astype(np.float32),
            "p_pay_average_agent": p_op[1].astype(np.float32),
        }
    )


@fill_doc
def chunk_arrays(ch: ChunkState) -> dict:
    """A finished chunk's records as compact arrays with its ids (see :func:`chunk_frames`).

    Parameters
    ----------
    {{op_chunk}}

    Returns
    -------
    dict
        ``ids``, ``chunk``, ``randomized`` and the concatenated ``rows``, ``spells``,
        ``promises``, ``promise_results``, ``events``, ``months`` (None when empty).
    """
    out: dict = {"ids": ch.ids, "chunk": ch.chunk_index, "randomized": ch.randomized}
    for name in ("rows", "spells", "promises", "promise_results", "events", "months"):
        parts = getattr(ch, name)
        out[name] = concat_rows(parts) if parts else None
    return out


# ---------------------------------------------------------------------- assembly
_EPOCH = np.datetime64("1970-01-01", "D")
#: Codes of the operation's events (``ChunkState.events``).
EVENT_NAMES = np.array(
    ["dispute_closed", "hardship_plan", "hardship_plan_ended", "legal_filed"], dtype=object
)


def _dates(days: np.ndarray) -> np.ndarray:
    """Days since 1970-01-01 → datetime64[ns]."""
    return (_EPOCH + np.asarray(days, np.int64).astype("timedelta64[D]")).astype("datetime64[ns]")


def _labels(names: tuple[str, ...], codes: np.ndarray) -> np.ndarray:
    """Code → label (object array sharing the label strings; -1 → None)."""
    table = np.array([*names, None], dtype=object)
    codes = np.asarray(codes, np.int64)
    return table[np.where(codes >= 0, codes, len(names))]


def _action_ids(first: int, n: int) -> pd.Series:
    """``X000000001``-style ids, built in Arrow (compact for millions of rows)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    numbers = pa.array(np.arange(first, first + n, dtype=np.int64))
    text = pc.utf8_lpad(pc.cast(numbers, pa.string()), width=9, padding="0")
    ids = pc.binary_join_element_wise(pa.scalar("X"), text, "")
    return pd.Series(pd.arrays.ArrowStringArray(ids))


def _empty(columns: dict) -> pd.DataFrame:
    """An empty table with the given column dtypes."""
    return pd.DataFrame({k: pd.Series(dtype=v) for k, v in columns.items()})


_ASSIGNMENT_COLUMNS = {
    "account_id": object,
    "agent_id": object,
    "start_date": "datetime64[ns]",
    "end_date": "datetime64[ns]",
    "randomized": bool,
    "arm": object,
}
#: The tables each chunk gives, with their column dtypes (``truth_spells`` is the
#: ``assignments`` table with the team and the observed difficulty).
CHUNK_TABLES = {
    "actions": {
        "action_id": object,
        "account_id": object,
        "agent_id": object,
        "ts": "datetime64[ns]",
        "channel": object,
        "outcome": object,
        "promise_amount": float,
        "promise_date": "datetime64[ns]",
        "reason_code": object,
        "attitude": object,
        "cost": float,
    },
    "assignments": _ASSIGNMENT_COLUMNS,
    "events": {"account_id": object, "date": "datetime64[ns]", "event": object},
    "truth_violations": {
        "action_id": object,
        "account_id": object,
        "agent_id": object,
        "ts": "datetime64[ns]",
        "channel": object,
        "rule": object,
    },
    "truth_promises": {
        "action_id": object,
        "account_id": object,
        "archetype": object,
        "promise_date": "datetime64[ns]",
        "promise_amount": float,
        "keep_probability": float,
        "kept": "boolean",
    },
    "truth_spells": {**_ASSIGNMENT_COLUMNS, "team": object, "difficulty": float},
    "truth_operation_months": {
        "account_id": object,
        "month_end": "datetime64[ns]",
        "agent_id": object,
        "group": object,
        "arm": object,
        "randomized": bool,
        "n_actions": np.int32,
        "odds_multiplier": np.float32,
        "p_pay_base": np.float32,
        "p_pay_operation": np.float32,
        "p_pay_average_agent": np.float32,
    },
}


def _nat_or_dates(days: np.ndarray) -> pd.Series:
    """Days since 1970-01-01 → dates; negative days → NaT."""
    days = np.asarray(days, np.int64)
    return pd.to_datetime(np.where(days >= 0, _dates(np.maximum(days, 0)), np.datetime64("NaT")))


def chunk_frames(
    c: dict,
    agent_ids: np.ndarray,
    costs: dict[str, float],
    month_start_days: np.ndarray,
    data_end_day: int,
    first_action_id: int,
) -> dict[str, pd.DataFrame]:
    """One chunk's compact arrays → contract and truth tables (ids built here).

    Parameters
    ----------
    c : dict
        From :func:`chunk_arrays`.
    agent_ids : ndarray of str
        ``agent_id`` of each agent of the roster.
    costs : dict
        Cost of an action by channel (``config.costs.per_action``, currency).
    month_start_days : ndarray of int
        First day of each simulated month (days since 1970-01-01).
    data_end_day : int
        Last day of the tables.
    first_action_id : int
        Number of the chunk's first ``action_id`` (``X000000001`` is 1).

    Returns
    -------
    dict of pandas.DataFrame
        Every table of :data:`CHUNK_TABLES` (empty when the chunk has none); as many
        action ids are used as ``actions`` has rows.
    """
    data_end = data_end_day
    cost_by_channel = np.array([float(costs.get(x, 0.0)) for x in ct.CHANNELS])
    month_end_days = np.append(month_start_days[1:], month_start_days[-1] + 31) - 1
    ids = c["ids"]
    out = {name: _empty(cols) for name, cols in CHUNK_TABLES.items()}
    r = c["rows"]
    if r is not None and len(r["ts"]):
        order = np.lexsort((r["ts"], r["pos"]))
        r = take_rows(r, order)
        n = len(order)
        action_id = _action_ids(first_action_id, n)
        act = pd.DataFrame(
            {
                "action_id": action_id,
                "account_id": ids[r["pos"]],
                "agent_id": agent_ids[r["agent"]],
                "ts": r["ts"].astype("datetime64[s]").astype("datetime64[ns]"),
                "channel": _labels(ct.CHANNELS, r["chan"]),
                "outcome": _labels(ct.OUTCOMES, r["out"]),
                "promise_amount": r["promise_amount"],
                "promise_date": _nat_or_dates(r["promise_day"]),
                "reason_code": _labels(ct.REASONS, r["reason"]),
                "attitude": _labels(ct.ATTITUDES, r["attitude"]),
                "cost": cost_by_channel[r["chan"]],
            }
        )
        out["actions"] = act
        bits = r["bits"].astype(np.int64)
        violations = []
        for rule, bit in RULE_BITS.items():
            hit = np.flatnonzero(bits & bit)
            if len(hit):
                cols = ["action_id", "account_id", "agent_id", "ts", "channel"]
                violations.append(act.iloc[hit][cols].assign(rule=rule))
        if violations:
            out["truth_violations"] = pd.concat(violations, ignore_index=True)
        pr = c["promises"]
        if pr is not None:
            with_row = np.flatnonzero(r["promise_seq"] >= 0)
            link = pd.Series(with_row, index=r["promise_seq"][with_row])
            kept = pd.Series(pd.NA, index=pr["seq"], dtype="boolean")
            res = c["promise_results"]
            if res is not None:
                known = np.isin(res["row"], pr["seq"])
                kept.loc[res["row"][known]] = res["kept"][known]
            found = np.isin(pr["seq"], link.index)
            rows_of = link.reindex(pr["seq"][found]).to_numpy()
            out["truth_promises"] = pd.DataFrame(
                {
                    "action_id": act["action_id"].iloc[rows_of].to_numpy(),
                    "account_id": ids[pr["pos"][found]],
                    "archetype": _labels(ARCHETYPES, pr["archetype"][found]),
                    "promise_date": _dates(pr["day"][found]),
                    "promise_amount": pr["amount"][found],
                    "keep_probability": pr["keep"][found],
                    "kept": kept.to_numpy()[found],
                }
            )
    s = c["spells"]
    if s is not None:
        s = take_rows(s, s["start"] <= data_end)
        end = np.where(s["end"] > data_end, -1, s["end"])
        spells = pd.DataFrame(
            {
                "account_id": ids[s["pos"]],
                "agent_id": agent_ids[s["agent"]],
                "start_date": _dates(s["start"]),
                "end_date": _nat_or_dates(end),
                "randomized": s["randomized"].astype(bool),
                "arm": _labels(ct.ARMS, s["arm"]),
                "team": _labels(TEAMS, s["team"]),
                "difficulty": s["difficulty"],
            }
        ).sort_values(["account_id", "start_date"], ignore_index=True)
        out["truth_spells"] = spells
        out["assignments"] = spells[list(CHUNK_TABLES["assignments"])].copy()
    e = c["events"]
    if e is not None:
        keep = e["day"] <= data_end
        out["events"] = pd.DataFrame(
            {
                "account_id": ids[e["pos"][keep]],
                "date": _dates(e["day"][keep]),
                "event": EVENT_NAMES[e["code"][keep]],
            }
        )
    mo = c["months"]
    if mo is not None:
        out["truth_operation_months"] = pd.DataFrame(
            {
                "account_id": ids[mo["pos"]],
                "month_end": _dates(month_end_days[mo["month"]]),
                "agent_id": agent_ids[mo["agent"]],
                "group": _labels(ct.GROUPS, mo["group"]),
                "arm": _labels(ct.ARMS, mo["arm"]),
                "randomized": c["randomized"][mo["pos"]],
                "n_actions": mo["n_actions"],
                "odds_multiplier": mo["odds_multiplier"],
                "p_pay_base": mo["p_pay_base"],
                "p_pay_operation": mo["p_pay_operation"],
                "p_pay_average_agent": mo["p_pay_average_agent"],
            }
        )
    return out


def agent_month_sums(months: dict, n_agents: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per agent: summed uplift, summed own effect and count of worked account-months.

    Parameters
    ----------
    months : dict of ndarray
        The ``months`` arrays of :func:`chunk_arrays`.
    n_agents : int

    Returns
    -------
    (ndarray, ndarray, ndarray)
        Σ (``p_pay_operation`` − ``p_pay_base``), Σ (``p_pay_operation`` −
        ``p_pay_average_agent``) and the number of account-months.
    """
    mo = months
    uplift = mo["p_pay_operation"].astype(float) - mo["p_pay_base"].astype(float)
    own = mo["p_pay_operation"].astype(float) - mo["p_pay_average_agent"].astype(float)
    return (
        np.bincount(mo["agent"], weights=uplift, minlength=n_agents),
        np.bincount(mo["agent"], weights=own, minlength=n_agents),
        np.bincount(mo["agent"], minlength=n_agents),
    )


def truth_agents_table(
    agents: pd.DataFrame, uplift_sum: np.ndarray, effect_sum: np.ndarray, n: np.ndarray
) -> pd.DataFrame:
    """The roster with each agent's true skill and mean effect (``truth_agents``).

    Parameters
    ----------
    agents : pandas.DataFrame
        The roster (:func:`recovery.simulate.collectors.make_agents`).
    uplift_sum, effect_sum, n : ndarray
        Sums over the book of :func:`agent_month_sums`.

    Returns
    -------
    pandas.DataFrame
        The roster without ``team_code``, plus ``mean_uplift``, ``effect_vs_average``
        and ``account_months``.
    """
    truth_agents = agents.drop(columns=["team_code"]).copy()
    truth_agents["mean_uplift"] = np.where(n > 0, uplift_sum / np.maximum(n, 1), np.nan)
    truth_agents["effect_vs_average"] = np.where(n > 0, effect_sum / np.maximum(n, 1), np.nan)
    truth_agents["account_months"] = n.astype(np.int64)
    return truth_agents


def operation_params_table(params: OperationParams) -> pd.DataFrame:
    """Every operation parameter with its value as JSON (``truth_operation_params``).

    Parameters
    ----------
    params : OperationParams

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame(
        [
            {"parameter": k, "value": json.dumps(v, default=list)}
            for k, v in dataclasses.asdict(params).items()
        ]
    )


def contact_effects_table() -> pd.DataFrame:
    """The effect weight of a contact by channel and outcome (``truth_contact_effects``).

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame(
        [{"channel": c, "outcome": o, "weight": w} for (c, o), w in ct.EFFECT_WEIGHTS.items()]
    )
