"""The dated events of a customer's accounts as known at a day: the case file's timeline.

:class:`CaseTimeline` reads a portfolio already cut at ``as_of``
(:func:`recovery.timeline.known_at.point_in_time`) and gives

- ``states``: each account's aging state at ``as_of``
  (:func:`recovery.timeline.aging.account_states`) or, from a monthly performance
  table, its last month end;
- ``series``: DPD, bucket, status and balance on every day anything changed and the day
  before (so a straight line between points is the DPD of every day), plus month ends —
  or the month ends of the performance table;
- ``timeline``: one row per dated event (:data:`TIMELINE_COLUMNS`) with the account's
  DPD, bucket, status and balance at the end of that day, oldest first.

Events: ``opened``, ``due`` (installments of the schedule version in force on their due
date), ``restructured`` (a new schedule version, or a ``restructured`` event without
one), ``payment`` and ``reversal``, ``overdue`` (an episode starts) and ``cured`` (a
payment cure, :func:`recovery.timeline.aging.episodes`), ``contact`` (every action, with
its outcome, promise, stated reason and recorded attitude), ``promise_kept`` /
``promise_broken`` (on the promised date + the grace days, once that day is known;
:func:`recovery.operations.activity.promises_kept`), ``assigned`` / ``unassigned``
(agent spells), ``offer``, ``offer_answered``, ``offer_result``, ``charged_off``,
``paid_off``, ``event`` (the ``events`` table: death, dispute, fraud, settlement …) and,
on the monthly path, ``bucket`` (a month end in another bucket or status).

Examples
--------
>>> from recovery.datasets import tiny_portfolio
>>> from recovery.timeline.known_at import point_in_time
>>> pit = point_in_time(tiny_portfolio(), "2024-03-31")
>>> tl = CaseTimeline(pit, pd.Timestamp("2024-03-31"), Config()).timeline
>>> tl.loc[tl["account_id"].eq("A2"), "event"].tolist()[:4]
['opened', 'due', 'payment', 'due']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.data.contract import FREE_TEXT_COLUMNS
from recovery.data.offers import acceptance_day
from recovery.data.portfolio import Portfolio
from recovery.errors import DataError
from recovery.operations.activity import promises_kept
from recovery.timeline.aging import account_states, episodes

__all__ = ["TIMELINE_COLUMNS", "CaseTimeline", "words"]

#: Columns of the timeline.
TIMELINE_COLUMNS = (
    "date",
    "time",
    "account_id",
    "event",
    "detail",
    "amount",
    "channel",
    "outcome",
    "agent_id",
    "dpd",
    "bucket",
    "status",
    "balance",
)

# order of events within one day (then by time of day)
_DAY_ORDER = {
    "opened": 0,
    "restructured": 1,
    "due": 2,
    "payment": 3,
    "reversal": 4,
    "assigned": 5,
    "contact": 6,
    "offer": 7,
    "offer_answered": 8,
    "promise_kept": 9,
    "promise_broken": 9,
    "offer_result": 10,
    "overdue": 11,
    "cured": 12,
    "paid_off": 12,
    "charged_off": 13,
    "bucket": 13,
    "event": 14,
    "unassigned": 15,
}


def words(code: Any) -> str:
    """A code in words (``promise_to_pay`` → ``promise to pay``; missing → empty).

    Examples
    --------
    >>> words("right_party_contact"), words(None)
    ('right party contact', '')
    """
    if code is None or (isinstance(code, float) and np.isnan(code)):
        return ""
    return str(code).replace("_", " ")


def _money(x: Any) -> str:
    return f"{float(x):,.2f}"


def _rows(frame: pd.DataFrame, date: Any, event: str, detail: Any, **columns: Any) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "date": pd.to_datetime(pd.Series(date)).dt.normalize().to_numpy(),
            "account_id": frame["account_id"].astype(str).to_numpy(),
            "event": event,
            "detail": np.asarray(detail, dtype=object) if not isinstance(detail, str) else detail,
        }
    )
    for name, value in columns.items():
        out[name] = np.asarray(value) if not np.isscalar(value) else value
    return out


class CaseTimeline:
    """States, series and dated events of every account of a point-in-time portfolio.

    Parameters
    ----------
    pit : Portfolio
        The portfolio as known at the end of ``day``
        (:func:`recovery.timeline.known_at.point_in_time`).
    day : pandas.Timestamp
        The as-of day.
    config : Config

    Attributes
    ----------
    ledger : bool
        The event tables are there (``schedule`` and ``payments``); otherwise the
        monthly ``snapshots`` are read.
    states, series, timeline : pandas.DataFrame
        See the module text.
    """

    def __init__(self, pit: Portfolio, day: pd.Timestamp, config: Config):
        self.pit, self.day, self.config = pit, day, config
        self.ledger = pit.schedule is not None and pit.payments is not None
        if self.ledger:
            self.states, self.series = self._ledger_states()
        else:
            self.states, self.series = self._monthly_states()
        rows = [self._account_rows(), self._action_rows(), self._spell_rows()]
        rows += [self._event_rows(), self._offer_rows(), self._state_change_rows()]
        if self.ledger:
            rows += [self._due_rows(), self._payment_rows(), self._episode_rows()]
        self.timeline = self._with_state(
            pd.concat([r for r in rows if r is not None and len(r)], ignore_index=True)
        )

    def _ledger_states(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        pit, day, grace = self.pit, self.day, self.config.aging.grace_days
        days = [
            (pit.schedule["account_id"], pit.schedule["due_date"], (-1, 0, grace, grace + 1)),
            (pit.payments["account_id"], pit.payments["payment_date"], (-1, 0)),
        ]
        if "reversed_date" in pit.payments:
            rev = pit.payments.dropna(subset=["reversed_date"])
            days.append((rev["account_id"], rev["reversed_date"], (-1, 0)))
        for name, col in (("actions", "ts"), ("events", "date"), ("assignments", "start_date")):
            df = getattr(pit, name)
            if df is not None and len(df):
                days.append((df["account_id"], df[col], (0,)))
        if pit.offers is not None and len(pit.offers):
            days.append((pit.offers["account_id"], pit.offers["offered_at"], (0,)))
        if pit.accounts is not None:
            ids = pit.accounts["account_id"].astype(str)
            start = pd.to_datetime(pit.accounts["origination_date"])
        else:
            first = pit.schedule.groupby("account_id")["due_date"].min()
            ids, start = first.index.astype(str).to_series(), first - pd.Timedelta(days=31)
        month_ends = pd.date_range(start.min(), day, freq="ME") if len(start) else []
        grid = pd.DataFrame(
            {
                "account_id": np.repeat(ids.to_numpy(), len(month_ends)),
                "as_of": np.tile(np.asarray(month_ends, dtype="datetime64[ns]"), len(ids)),
            }
        )
        parts = [grid, pd.DataFrame({"account_id": ids.to_numpy(), "as_of": day})]
        parts.append(pd.DataFrame({"account_id": ids.to_numpy(), "as_of": start.to_numpy()}))
        for acc, when, shifts in days:
            base = pd.to_datetime(when).dt.normalize().to_numpy()
            for s in shifts:
                parts.append(
                    pd.DataFrame(
                        {
                            "account_id": acc.astype(str).to_numpy(),
                            "as_of": base + np.timedelta64(s, "D"),
                        }
                    )
                )
        pairs = pd.concat(parts, ignore_index=True)
        pairs = pairs[(pairs["as_of"] <= day)].drop_duplicates()
        series = account_states(pit, pairs, self.config, partition_size=None)
        series = series.rename(columns={"as_of": "date"})
        states = series[series["date"] == day].reset_index(drop=True)
        return states, series[["account_id", "date", "dpd", "bucket", "status", "balance"]]

    def _monthly_states(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        snaps = self.pit.snapshots
        if snaps is None:
            raise DataError(
                "the case file needs the tables schedule and payments, or a monthly "
                "performance table (snapshots)"
            )
        snaps = snaps.sort_values(["account_id", "month_end"], kind="stable").copy()
        snaps["account_id"] = snaps["account_id"].astype(str)
        series = snaps.rename(columns={"month_end": "date"})
        for col in ("dpd", "balance", "bucket", "status"):
            if col not in series:
                series[col] = np.nan
        states = series.drop_duplicates("account_id", keep="last").reset_index(drop=True)
        if "debt_age_days" not in states:
            states["debt_age_days"] = pd.NA
        return states, series[["account_id", "date", "dpd", "bucket", "status", "balance"]]

    # ------------------------------------------------------------------ event rows
    def _account_rows(self) -> pd.DataFrame | None:
        acc = self.pit.accounts
        if acc is None or "origination_date" not in acc:
            return None
        detail = [
            f"{words(p)} loan of {_money(a)} over {int(t)} months"
            if not pd.isna(t)
            else f"{words(p)} account of {_money(a)}"
            for p, a, t in zip(
                acc.get("product", pd.Series("", index=acc.index)),
                acc.get("principal", pd.Series(np.nan, index=acc.index)),
                acc.get("term_months", pd.Series(np.nan, index=acc.index)),
                strict=True,
            )
        ]
        return _rows(acc, acc["origination_date"], "opened", detail)

    def _due_rows(self) -> pd.DataFrame:
        sched = self.pit.schedule
        version = (
            sched["schedule_version"].fillna(1).astype("int64")
            if "schedule_version" in sched
            else pd.Series(1, index=sched.index)
        )
        # the installments of the version in force on their due date (restructures
        # never rewrite history): version v is in force from its effective_from until
        # the next version's
        eff = (
            pd.to_datetime(sched["effective_from"])
            if "effective_from" in sched
            else pd.Series(pd.NaT, index=sched.index)
        )
        starts = (
            pd.DataFrame({"account_id": sched["account_id"].astype(str), "v": version, "eff": eff})
            .groupby(["account_id", "v"])["eff"]
            .min()
            .reset_index()
            .sort_values(["account_id", "v"])
        )
        starts["until"] = starts.groupby("account_id")["eff"].shift(-1)
        key = pd.MultiIndex.from_arrays([sched["account_id"].astype(str), version])
        until = starts.set_index(["account_id", "v"])["until"].reindex(key).to_numpy()
        due = pd.to_datetime(sched["due_date"]).to_numpy()
        # nothing falls due once the loan is paid off, settled or closed (for good: from
        # the first day of its last run of such days)
        se = self.series
        done = se["status"].astype(object).isin(["paid_off", "settled", "closed"])
        last_open = se[~done].groupby("account_id")["date"].max()
        after = se["date"] > se["account_id"].map(last_open).fillna(pd.Timestamp.min)
        end = se[done & after].groupby("account_id")["date"].min()
        last = sched["account_id"].astype(str).map(end).to_numpy(dtype="datetime64[ns]")
        keep = (due <= np.datetime64(self.day)) & ~(due >= until) & ~(due > last)
        s = sched[keep]
        detail = [
            f"installment {int(n)} of {_money(a)} due" if not pd.isna(n) else f"{_money(a)} due"
            for n, a in zip(
                s.get("installment_no", pd.Series(np.nan, index=s.index)),
                s["amount_due"],
                strict=True,
            )
        ]
        rows = _rows(s, s["due_date"], "due", detail, amount=s["amount_due"].to_numpy())
        restructures = starts[starts["v"] > 1].dropna(subset=["eff"])
        restructures = restructures[restructures["eff"] <= self.day]
        if len(restructures):
            n_inst = (
                pd.DataFrame({"account_id": sched["account_id"].astype(str), "v": version})
                .value_counts()
                .reindex(pd.MultiIndex.from_frame(restructures[["account_id", "v"]]))
                .to_numpy()
            )
            detail = [
                f"new schedule (version {int(v)}, {int(n)} installments)"
                for v, n in zip(restructures["v"], n_inst, strict=True)
            ]
            rows = pd.concat(
                [rows, _rows(restructures, restructures["eff"], "restructured", detail)]
            )
        return rows

    def _payment_rows(self) -> pd.DataFrame:
        pays = self.pit.payments
        rev = (
            pd.to_datetime(pays["reversed_date"])
            if "reversed_date" in pays
            else pd.Series(pd.NaT, index=pays.index)
        )
        channel = pays.get("channel", pd.Series(None, index=pays.index)).astype(object)
        detail = [
            f"paid {_money(a)}"
            + (f" by {words(c)}" if c else "")
            + (f" (returned on {r.date()})" if not pd.isna(r) else "")
            for a, c, r in zip(pays["amount"], channel.fillna(""), rev, strict=True)
        ]
        rows = [
            _rows(
                pays,
                pays["payment_date"],
                "payment",
                detail,
                amount=pays["amount"].to_numpy(),
                channel=channel.to_numpy(),
            )  # fmt: skip
        ]
        back = rev.notna().to_numpy()
        if back.any():
            r = pays[back]
            detail = [
                f"payment of {_money(a)} from {pd.Timestamp(d).date()} returned"
                for a, d in zip(r["amount"], r["payment_date"], strict=True)
            ]
            rows.append(_rows(r, rev[back], "reversal", detail, amount=-r["amount"].to_numpy()))
        return pd.concat(rows)

    def _action_rows(self) -> pd.DataFrame | None:
        acts = self.pit.actions
        if acts is None or not len(acts):
            return None
        acts = acts.reset_index(drop=True)
        outcome = acts["outcome"].astype(object)
        parts = []
        for col, label in (("reason_code", "reason"), ("attitude", "attitude")):
            if col in acts:
                v = acts[col].astype(object)
                shown = v.notna() & ~v.isin(["unknown", ""])
                parts.append(np.where(shown, f"; {label}: " + v.fillna("").map(words), ""))
        note_cols = [c for c in acts.columns if c.lower() in FREE_TEXT_COLUMNS]
        for col in note_cols:
            v = acts[col].astype(object)
            parts.append(np.where(v.notna(), "; note: " + v.fillna("").astype(str), ""))
        promise = (
            acts["promise_date"].notna()
            if "promise_date" in acts
            else pd.Series(False, index=acts.index)
        )
        ptp_text = np.where(
            promise,
            " of "
            + acts.get("promise_amount", pd.Series(np.nan, index=acts.index)).map(
                lambda a: "" if pd.isna(a) else _money(a)
            )
            + " by "
            + pd.to_datetime(acts.get("promise_date")).dt.strftime("%Y-%m-%d").fillna("")
            if "promise_date" in acts
            else "",
            "",
        )
        agent = acts.get("agent_id", pd.Series("", index=acts.index)).astype(object).fillna("")
        detail = (
            acts["channel"].astype(object).map(words)
            + np.where(agent != "", " by " + agent, "")
            + ": "
            + outcome.map(words)
            + ptp_text
        )
        for p in parts:
            detail = detail + p
        rows = [
            _rows(
                acts,
                acts["ts"],
                "contact",
                detail.to_numpy(),
                time=pd.to_datetime(acts["ts"]).to_numpy(),
                channel=acts["channel"].astype(object).to_numpy(),
                outcome=outcome.to_numpy(),
                agent_id=agent.to_numpy(),
                amount=acts.get("promise_amount", pd.Series(np.nan, index=acts.index)).to_numpy(),
            )  # fmt: skip
        ]
        if promise.any() and self.pit.payments is not None:
            grace = pd.Timedelta(days=self.config.labels.promise_grace_days)
            ptp = acts[promise.to_numpy()]
            settled_on = pd.to_datetime(ptp["promise_date"]) + grace
            done = (settled_on <= self.day).to_numpy()
            kept = promises_kept(acts, self.pit.payments, self.config)[promise.to_numpy()]
            p = ptp[done]
            k = kept[done]
            detail = np.where(k, "promise kept", "promise broken") + np.asarray(
                [
                    f" (promised {_money(a)} by {pd.Timestamp(d).date()} on {pd.Timestamp(t).date()})"
                    if not pd.isna(a)
                    else f" (promised by {pd.Timestamp(d).date()})"
                    for a, d, t in zip(
                        p.get("promise_amount", pd.Series(np.nan, index=p.index)),
                        p["promise_date"],
                        p["ts"],
                        strict=True,
                    )
                ],
                dtype=object,
            )
            rows.append(
                _rows(
                    p,
                    settled_on[done],
                    np.where(k, "promise_kept", "promise_broken"),
                    detail,
                    agent_id=p.get("agent_id", pd.Series("", index=p.index)).to_numpy(),
                    amount=p.get("promise_amount", pd.Series(np.nan, index=p.index)).to_numpy(),
                )  # fmt: skip
            )
        return pd.concat(rows)

    def _spell_rows(self) -> pd.DataFrame | None:
        spells = self.pit.assignments
        if spells is None or not len(spells):
            return None
        start = _rows(
            spells, spells["start_date"], "assigned",
            "assigned to " + spells["agent_id"].astype(str).to_numpy(),
            agent_id=spells["agent_id"].astype(str).to_numpy(),
        )  # fmt: skip
        ended = spells[pd.to_datetime(spells["end_date"]).notna()]
        end = _rows(
            ended, ended["end_date"], "unassigned",
            "spell of " + ended["agent_id"].astype(str).to_numpy() + " ended",
            agent_id=ended["agent_id"].astype(str).to_numpy(),
        )  # fmt: skip
        return pd.concat([start, end])

    def _event_rows(self) -> pd.DataFrame | None:
        events = self.pit.events
        if events is None or not len(events):
            return None
        kind = events["event"].astype(object)
        # charge-off comes from aging (an earlier charged_off event included); a
        # restructured event on the day of a new schedule version is that version
        drop = kind.eq("charged_off").to_numpy() if self.ledger else np.zeros(len(kind), bool)
        if self.ledger and self.pit.schedule is not None and "effective_from" in self.pit.schedule:
            versions = set(
                zip(
                    self.pit.schedule["account_id"].astype(str),
                    pd.to_datetime(self.pit.schedule["effective_from"]).dt.normalize(),
                    strict=True,
                )
            )
            same = [
                (a, d) in versions
                for a, d in zip(
                    events["account_id"].astype(str),
                    pd.to_datetime(events["date"]).dt.normalize(),
                    strict=True,
                )
            ]
            drop |= kind.eq("restructured").to_numpy() & np.asarray(same, dtype=bool)
        ev = events[~drop]
        k = ev["event"].astype(object)
        name = np.where(k.isin(["restructured", "charged_off"]), k, "event")
        return _rows(ev, ev["date"], name, k.map(words).to_numpy(), outcome=k.to_numpy())

    def _offer_rows(self) -> pd.DataFrame | None:
        offers = self.pit.offers
        if offers is None or not len(offers):
            return None
        kind = offers["kind"].astype(object).map(words)
        terms = []
        for col, fmt in (
            ("discount_share", lambda v: f"{v:.0%} off"),
            ("installments", lambda v: f"{int(v)} installments"),
            ("plan_amount", lambda v: f"{_money(v)} a month"),
            ("deferral_months", lambda v: f"{int(v)} months' deferral"),
        ):
            if col in offers:
                terms.append(offers[col].map(lambda v, f=fmt: "" if pd.isna(v) else f(v)))
        text = kind.copy()
        if terms:
            joined = pd.concat(terms, axis=1).apply(lambda r: ", ".join(x for x in r if x), axis=1)
            text = kind + np.where(joined != "", " (" + joined + ")", "")
        agent = offers.get("agent_id", pd.Series(None, index=offers.index)).astype(object)
        rows = [
            _rows(
                offers,
                offers["offered_at"],
                "offer",
                ("offered " + text).to_numpy(),
                agent_id=agent.to_numpy(),
            )  # fmt: skip
        ]
        if "outcome" in offers:
            ans = offers[offers["outcome"].notna()]
            rows.append(
                _rows(
                    ans,
                    acceptance_day(ans),
                    "offer_answered",
                    (text[ans.index] + ": " + ans["outcome"].astype(object).map(words)).to_numpy(),
                    outcome=ans["outcome"].astype(object).to_numpy(),
                )  # fmt: skip
            )
        if "result" in offers and "result_date" in offers:
            res = offers[offers["result"].notna() & offers["result_date"].notna()]
            rows.append(
                _rows(
                    res,
                    res["result_date"],
                    "offer_result",
                    (text[res.index] + ": " + res["result"].astype(object).map(words)).to_numpy(),
                    outcome=res["result"].astype(object).to_numpy(),
                )  # fmt: skip
            )
        return pd.concat(rows)

    def _episode_rows(self) -> pd.DataFrame | None:
        ep = episodes(self.pit, self.config, end=self.day, partition_size=None)
        if not len(ep):
            return None
        rows = [
            _rows(
                ep,
                ep["first_overdue_date"],
                "overdue",
                [
                    f"fell behind (installment due {pd.Timestamp(d).date()} not paid)"
                    for d in ep["start_date"]
                ],
            )  # fmt: skip
        ]
        cure = ep[ep["end_reason"].astype(object).eq("payment_cure")]
        rows.append(
            _rows(
                cure,
                cure["end_date"],
                "cured",
                [f"cured by payment after {int(m)} days past due" for m in cure["max_dpd"]],
            )  # fmt: skip
        )
        return pd.concat(rows)

    def _state_change_rows(self) -> pd.DataFrame | None:
        """Charge-off and payoff (ledger), or bucket and status changes (monthly)."""
        s = self.series
        prev = s.groupby("account_id")["status"].shift()
        if self.ledger:
            rows = []
            for status in ("charged_off", "paid_off"):
                hit = s[s["status"].astype(object).eq(status) & ~prev.astype(object).eq(status)]
                if status == "charged_off":
                    hit = self.states.dropna(subset=["charge_off_date"])
                    when = hit["charge_off_date"]
                    text = [
                        f"charged off at {self.config.aging.charge_off_dpd} days past due"
                    ] * len(hit)
                else:
                    when, text = hit["date"], ["paid off"] * len(hit)
                rows.append(_rows(hit, when, status, text))
            return pd.concat(rows)
        prev_bucket = s.groupby("account_id")["bucket"].shift()
        moved = s["bucket"].astype(object).ne(prev_bucket.astype(object)) | s["status"].astype(
            object
        ).ne(prev.astype(object))
        moved &= prev.notna().to_numpy()
        m = s[moved.to_numpy()]
        text = np.where(
            m["status"].astype(object).eq("open"),
            "month end in " + m["bucket"].astype(object).fillna("").astype(str),
            "month end status: " + m["status"].astype(object).map(words),
        )
        return _rows(m, m["date"], "bucket", text)

    # ------------------------------------------------------------------ assemble
    def _add_days(self, days: pd.DataFrame) -> None:
        """Add the state on ``days`` (account_id, date) not yet in the series."""
        have = pd.MultiIndex.from_frame(self.series[["account_id", "date"]])
        want = days.drop_duplicates()
        new = want[~pd.MultiIndex.from_frame(want).isin(have)]
        if not len(new):
            return
        pairs = new.rename(columns={"date": "as_of"})
        extra = account_states(self.pit, pairs, self.config, partition_size=None)
        extra = extra.rename(columns={"as_of": "date"})[list(self.series.columns)]
        self.series = (
            pd.concat([self.series, extra], ignore_index=True)
            .sort_values(["account_id", "date"], kind="stable")
            .reset_index(drop=True)
        )

    def _with_state(self, timeline: pd.DataFrame) -> pd.DataFrame:
        tl = timeline[timeline["date"] <= self.day].copy()
        for col in TIMELINE_COLUMNS:
            if col not in tl:
                tl[col] = np.nan if col in ("amount",) else None
        tl["time"] = pd.to_datetime(tl["time"])
        if self.ledger:  # days known only from the events (a promise's end, a charge-off)
            self._add_days(tl[["account_id", "date"]])
        state = self.series.sort_values("date").rename(columns={"date": "_d"})
        tl = tl.drop(columns=["dpd", "bucket", "status", "balance"])
        tl["_order"] = tl["event"].map(_DAY_ORDER).fillna(14)
        tl = tl.sort_values("date", kind="stable")
        merged = pd.merge_asof(
            tl, state, left_on="date", right_on="_d", by="account_id", direction="backward"
        )
        merged = merged.sort_values(
            ["date", "_order", "time", "account_id"], kind="stable", na_position="first"
        )
        return merged[list(TIMELINE_COLUMNS)].reset_index(drop=True)
