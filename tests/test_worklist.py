"""Recommendations and work lists on a simulated book (issue 8).

1. No recommendation ever violates a suppression: for every overdue account on a few
   dates, ``recommend`` gives ``none`` (or a letter instead of legal action) exactly
   where ``suppressions`` require, and the recommended contacts, audited by
   ``recovery.operations.compliance.flag_actions`` against what was known that day, break no rule.
2. ``recovery worklist`` end to end: tiny p_pay / amount models trained with
   ``recovery train``, then the CLI; capacity per agent holds and suppressed accounts
   never appear (also after a dispute is added by hand).
3. On a book with multi-loan customers (``customers`` scenario), one entry per customer
   carrying exactly its overdue accounts (issue 24).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from recovery.config import Config
from recovery.data.portfolio import Portfolio
from recovery.operations.compliance import CONTACT_CHANNELS, flag_actions
from recovery.operations.strategy import SUPPRESSION_RULES, recommend, suppressions
from recovery.timeline.aging import account_states

BLOCK_ALL = ["open_dispute", "deceased_reported", "hardship_plan"]
CAPS = ["daily_contact_cap", "weekly_contact_cap", "outside_contact_hours"]
LEGAL = set(Config().strategy.legal_channels)


@pytest.fixture(scope="module")
def book():
    from recovery.simulate import simulate_portfolio
    from recovery.simulate.operation import CollectionOperation

    # truth_draws=0: only the tables and the injected violations are used here
    portfolio, truth = simulate_portfolio(
        n_accounts=600, months=36, seed=5, operation=CollectionOperation(truth_draws=0)
    )
    portfolio.meta["violations"] = truth.extra["violations"]
    return portfolio


def _known_on(portfolio: Portfolio, date: pd.Timestamp, at: pd.Timestamp) -> Portfolio:
    """The book as a lender knows it at ``at`` on ``date``: ledger rows before the day,
    contact attempts before ``at`` (the same day's earlier attempts count for caps)."""
    pay = portfolio.payments[portfolio.payments["payment_date"] < date].copy()
    pay.loc[pay["reversed_date"] >= date, "reversed_date"] = pd.NaT
    sched = portfolio.schedule
    if "effective_from" in sched:
        sched = sched[sched["effective_from"].isna() | (sched["effective_from"] < date)]
    return Portfolio(
        accounts=portfolio.accounts,
        schedule=sched,
        payments=pay,
        actions=portfolio.actions[portfolio.actions["ts"] < at],
        events=portfolio.events[portfolio.events["date"] < date],
        agents=portfolio.agents,
        assignments=portfolio.assignments,
        meta={**portfolio.meta, "data_end": date - pd.Timedelta(days=1)},
    )


def _overdue_state(portfolio: Portfolio, date: pd.Timestamp, seed: int) -> pd.DataFrame:
    states = account_states(portfolio, date - pd.Timedelta(days=1))
    status = states["status"].astype(str)
    overdue = states[((status == "open") & (states["dpd"] > 0)) | (status == "charged_off")]
    rng = np.random.default_rng(seed)
    n = len(overdue)
    state = pd.DataFrame(
        {
            "account_id": overdue["account_id"].astype(str).to_numpy(),
            "bucket": overdue["bucket"].astype(object).to_numpy(),
            "status": status.loc[overdue.index].to_numpy(),
            "balance": overdue["balance"].to_numpy(),
            # scores spread over [0, 1] so every branch of the policy table is used
            "p_pay": rng.random(n),
            "p_cure": rng.random(n),
            "amount_given_payment": overdue["amount_overdue"].clip(lower=1).to_numpy(),
        }
    )
    guarantor = portfolio.accounts.set_index("account_id")["has_guarantor"]
    state["has_guarantor"] = state["account_id"].map(guarantor).fillna(False).astype(bool)
    return state


def _decision_times(book) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """(date, time of the planned contact): four ordinary mornings, one late evening
    (outside hours), and the moments right after injected bursts of calls (daily and
    weekly caps reached)."""
    times = [(pd.Timestamp(d), pd.Timestamp(d) + pd.Timedelta(hours=10)) for d in DATES]
    times.append((pd.Timestamp(DATES[0]), pd.Timestamp(DATES[0]) + pd.Timedelta(hours=22)))
    v = book.meta["violations"]
    for rule in ("attempts_per_day", "attempts_per_week"):
        last = v.loc[v["rule"].eq(rule), "ts"].sort_values()
        for ts in last.iloc[[0, -1]] if len(last) else []:
            at = ts + pd.Timedelta(minutes=1)
            times.append((at.normalize(), at))
    return times


DATES = ["2021-03-16", "2021-06-09", "2021-09-14", "2021-12-07"]


def test_no_recommendation_violates_a_suppression(book):
    config = Config()
    seen = pd.Series(0, index=list(SUPPRESSION_RULES))
    n_recommended = 0
    for i, (date, at) in enumerate(_decision_times(book)):
        known = _known_on(book, date, at)
        state = _overdue_state(known, date, seed=i)
        assert len(state) > 5
        supp = suppressions(known, date, config, at=at)
        rec = recommend(state, supp, config).set_index("account_id")
        free = recommend(state, None, config).set_index("account_id")  # no suppressions
        s = supp.reindex(rec.index).fillna(False).astype(bool)
        seen += s.sum()
        blocked_all = s[BLOCK_ALL].any(axis=1)
        caps = s[CAPS].any(axis=1)
        legal_free = free["action"].isin(LEGAL)
        contact_free = free["action"].isin(CONTACT_CHANNELS)
        # every account gets exactly one recommendation
        assert rec.index.is_unique and len(rec) == len(state)
        # block-all rules: nothing at all
        assert (rec.loc[blocked_all, "action"] == "none").all()
        # caps / hours: no contact channel
        assert not rec.loc[caps, "action"].isin(CONTACT_CHANNELS).any()
        # limitation expired: no legal action, a letter instead
        expired = s["limitation_expired"] & ~blocked_all
        assert not rec.loc[expired, "action"].isin(LEGAL).any()
        assert (rec.loc[expired & legal_free, "action"] == "letter").all()
        # ... and exactly where required: otherwise the unsuppressed recommendation
        must_change = blocked_all | (caps & contact_free) | (s["limitation_expired"] & legal_free)
        pd.testing.assert_series_equal(
            rec.loc[~must_change, "action"], free.loc[~must_change, "action"]
        )
        assert (rec.loc[must_change, "action"] != free.loc[must_change, "action"]).all()
        # audit: the recommended actions, done at ``at``, break no compliance rule
        todo = rec[rec["action"].ne("none")].reset_index()
        n_recommended += len(todo)
        new = pd.DataFrame(
            {
                "action_id": [f"R{i}-{k}" for k in range(len(todo))],
                "account_id": todo["account_id"],
                "agent_id": "G",
                "ts": at,
                "channel": todo["action"],
                "outcome": "no_answer",
            }
        )
        acts = pd.concat([known.actions, new], ignore_index=True)
        flags = flag_actions(
            acts, config, events=known.events, schedule=known.schedule, payments=known.payments
        )
        assert not flags["action_id"].astype(str).str.startswith("R").any(), flags[
            flags["action_id"].astype(str).str.startswith("R")
        ]
    assert n_recommended > 100
    # the dates exercise the suppressions a simulated book produces
    assert (seen > 0).all(), seen


def _run(runner, args):
    from recovery.cli import cli

    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def trained(book, tmp_path_factory):
    from recovery.data.io import save_portfolio

    root = tmp_path_factory.mktemp("worklist")
    data = root / "book"
    save_portfolio(book, data)
    runner = CliRunner()
    for target in ("p_pay", "amount"):
        _run(
            runner,
            [
                "train",
                str(data),
                "--target",
                target,
                "--out",
                str(root / "models" / target),
                "--months",
                "6",
                "--test-months",
                "0",
            ],
        )
    return root, data


def _worklist(root, data, date: str, name: str) -> pd.DataFrame:
    out = root / f"{name}.csv"
    result = _run(
        CliRunner(),
        ["worklist", str(data), "--model", str(root / "models"), "--date", date, "--out", str(out)],
    )
    assert "contacts for" in result.output
    return pd.read_csv(out, parse_dates=["planned_at"])


def test_worklist_cli_capacity_and_suppressions(book, trained):
    from recovery.data.io import load_portfolio, save_portfolio

    root, data = trained
    config = Config()
    date = pd.Timestamp("2021-12-07")
    wl = _worklist(root, data, str(date.date()), "day1")
    assert len(wl) > 0
    assert {"agent_id", "rank", "account_id", "action", "planned_at", "value"} <= set(wl)
    # capacity: at most the team's contacts per agent per day
    capacity = config.strategy.contacts_per_agent_per_day
    team = book.agents.set_index("agent_id")["team"]
    per_agent = wl.groupby("agent_id").size()
    limit = per_agent.index.map(lambda a: capacity.get(team.get(a), capacity["default"]))
    assert (per_agent.to_numpy() <= np.asarray(limit)).all()
    assert (
        wl.groupby("agent_id")["rank"].apply(lambda r: sorted(r) == list(range(1, len(r) + 1)))
    ).all()
    assert (wl["value"] > 0).all() and wl["account_id"].is_unique
    # allowed hours
    hours = wl["planned_at"].dt.hour
    assert (
        (hours >= config.compliance.contact_hour_start)
        & (hours < config.compliance.contact_hour_end)
    ).all()
    # suppressed accounts never appear with an action their rule forbids
    s = suppressions(book, date, config)
    listed = s.reindex(wl["account_id"].astype(str))
    assert not listed[BLOCK_ALL].any(axis=1).any()
    caps = listed[["daily_contact_cap", "weekly_contact_cap"]].any(axis=1).to_numpy()
    assert not wl.loc[caps, "action"].isin(CONTACT_CHANNELS).any()
    assert not wl.loc[listed["limitation_expired"].to_numpy(), "action"].isin(LEGAL).any()

    # a dispute raised the day before takes the top account off the next list
    top = wl.sort_values("value", ascending=False)["account_id"].iloc[0]
    portfolio = load_portfolio(data)
    row = portfolio.actions.iloc[[0]].copy()
    row["action_id"] = "DISPUTE-TEST"
    row["account_id"] = top
    row["ts"] = date - pd.Timedelta(hours=14)  # 10:00 the day before
    row["channel"] = "call"
    row["outcome"] = "dispute"
    portfolio.actions = pd.concat([portfolio.actions, row], ignore_index=True)
    disputed = root / "book_disputed"
    save_portfolio(portfolio, disputed)
    again = _worklist(root, disputed, str(date.date()), "day2")
    assert top not in set(again["account_id"].astype(str))
    assert suppressions(portfolio, date, config).loc[top, "open_dispute"]


def test_worklist_cli_one_entry_per_customer_with_all_its_overdue_accounts(trained):
    """On a book where a fifth of customers hold 2-3 loans (the models are the ones
    trained above): one entry per customer, carrying exactly its overdue accounts."""
    from recovery.data.io import save_portfolio
    from recovery.simulate import simulate_portfolio
    from recovery.simulate.operation import CollectionOperation
    from recovery.timeline.features import build_features

    root, _ = trained
    multi, _ = simulate_portfolio(
        n_accounts=600,
        months=36,
        seed=5,
        scenario="customers",
        operation=CollectionOperation(truth_draws=0),
    )
    data = root / "book_customers"
    save_portfolio(multi, data)
    date = pd.Timestamp("2021-12-07")
    wl = _worklist(root, data, str(date.date()), "customers")
    assert len(wl) > 0 and wl["customer_id"].is_unique
    overdue = build_features(multi, [date - pd.Timedelta(days=1)])["account_id"].astype(str)
    customer = multi.accounts.set_index("account_id")["customer_id"]
    expected = overdue.groupby(overdue.map(customer).to_numpy()).agg(lambda s: sorted(s))
    listed = wl.set_index("customer_id")["account_ids"].str.split(";").map(sorted)
    assert listed.tolist() == expected.reindex(listed.index).tolist()
    assert wl["accounts"].tolist() == listed.map(len).tolist()
    assert (wl["accounts"] > 1).sum() >= 3  # the multi-loan customers are there
