"""Collection KPIs on the hand-built book of ``test_roll_rates`` (see its table)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from conftest import hand_snapshot_book
from recovery.analytics.collection_cycle import (
    aalen_johansen,
    collection_cycle,
    collection_cycle_curves,
    collection_episodes,
    plot_collection_cycle,
)
from recovery.analytics.kpis import (
    collection_costs,
    collection_rates,
    cure_rates,
    kpi_totals,
    monthly_kpis,
    overdue_rates,
    plot_kpis,
    read_flows_and_kpis,
    recovery_rates,
)
from recovery.analytics.partitions import PartitionedSnapshots
from recovery.analytics.roll_rates import flow_totals
from recovery.analytics.states import snapshot_states
from recovery.config import Config
from recovery.datasets import load_sample
from recovery.timeline import aging

J, F, M, A = (pd.Timestamp(d) for d in ("2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"))


@pytest.fixture
def book() -> pd.DataFrame:
    return hand_snapshot_book()


def test_overdue_rates_by_hand(book):
    r = overdue_rates(book).set_index("month_end")
    # Jan open: A 100, B 50, D 60 (dpd 170), E 200 -> 30+ and 90+ = D: 1/4, 60/410
    assert r.loc[J, "open_accounts"] == 4 and r.loc[J, "open_balance"] == 410
    assert r.loc[J, "overdue_rate_30plus"] == pytest.approx(1 / 4)
    assert r.loc[J, "overdue_rate_30plus_balance"] == pytest.approx(60 / 410)
    assert r.loc[J, "overdue_rate_90plus_balance"] == pytest.approx(60 / 410)
    # Feb open: A (dpd 30, 95), B 40, C 80, E 190; D charged off is not in the base
    assert r.loc[F, "overdue_rate_30plus"] == pytest.approx(1 / 4)
    assert r.loc[F, "overdue_rate_30plus_balance"] == pytest.approx(95 / 405)
    assert r.loc[F, "overdue_rate_90plus"] == 0.0
    # Mar open: A (60, 95), C 70, E (10, 190) -> 1/3, 95/355
    assert r.loc[M, "overdue_rate_30plus_balance"] == pytest.approx(95 / 355)
    # Apr open: A (91, 95), F 300 -> 90+ 1/2, 95/395
    assert r.loc[A, "overdue_rate_90plus"] == pytest.approx(1 / 2)
    assert r.loc[A, "overdue_rate_90plus_balance"] == pytest.approx(95 / 395)


def test_collection_rates_by_hand(book):
    r = collection_rates(book).set_index(["month_end", "state"])
    # Feb, from Jan M1 (B: overdue 5, paid 12 in Feb) -> 2.4
    assert r.loc[(F, "M1"), "collection_rate"] == pytest.approx(12 / 5)
    # Feb, from Jan M6 (D: overdue 40, paid 0)
    assert r.loc[(F, "M6"), "collection_rate"] == 0.0
    # Feb, from Jan M0 (A 0 + E 10 collected, no overdue base)
    assert r.loc[(F, "M0"), "collected"] == 10.0
    assert np.isnan(r.loc[(F, "M0"), "collection_rate"])
    # Mar, from Feb charged_off: base is the whole balance 60, 5 recovered
    assert r.loc[(M, "charged_off"), "collection_rate"] == pytest.approx(5 / 60)
    # Apr, from Mar charged_off: 30 (settlement) / 55
    assert r.loc[(A, "charged_off"), "collection_rate"] == pytest.approx(30 / 55)
    # Apr, from Mar M0: C vanished, nothing collected
    assert r.loc[(A, "M0"), "collected"] == 0.0


def test_cure_rates_by_hand(book):
    c = cure_rates(book).set_index("month_end")
    # Feb: delinquent at Jan B (M1, 50) and D (M6, 60); B cured -> 1/2, 50/110
    assert c.loc[F, "cure_rate"] == pytest.approx(1 / 2)
    assert c.loc[F, "cure_rate_balance"] == pytest.approx(50 / 110)
    # Mar: A (M1) rolls -> 0; Apr: A (M2), E (M1) -> 0 of 2
    assert c.loc[M, "cure_rate"] == 0.0
    assert c.loc[A, "delinquent_accounts"] == 2 and c.loc[A, "cure_rate"] == 0.0


def test_recovery_rates_by_cohort(book):
    r = recovery_rates(book)
    # D: charged off in Feb with balance 60; recoveries after Feb: 5 (Mar) + 30 (Apr)
    assert r["cohort"].tolist() == [F]
    assert r["recovery_rate"].iloc[0] == pytest.approx(35 / 60)
    assert r["months_observed"].iloc[0] == 2
    # a charge_off_date column moves the cohort to its month (the January 31st here)
    dated = book.assign(charge_off_date=pd.NaT)
    dated.loc[dated["account_id"].eq("D"), "charge_off_date"] = pd.Timestamp("2024-01-31")
    r2 = recovery_rates(dated)
    assert r2["cohort"].tolist() == [J]
    # payments after Jan: Feb 0 + Mar 5 + Apr 30; balance at first charged-off row 60
    assert r2["recovery_rate"].iloc[0] == pytest.approx(35 / 60)


def test_episodes_from_snapshots(book):
    e = collection_episodes(book).set_index("account_id")
    # A: delinquent from Feb (dpd 30 -> started Jan 30), still delinquent at the end
    assert e.loc["A", "start_date"] == pd.Timestamp("2024-01-30")
    assert e.loc["A", "end_reason"] == "open" and e.loc["A", "end_date"] == A
    assert e.loc["A", "max_dpd"] == 91
    # B: dpd 15 at Jan 31 (started Jan 16), M0 at Feb 29 -> payment cure
    assert e.loc["B", "start_date"] == pd.Timestamp("2024-01-16")
    assert e.loc["B", "end_reason"] == "payment_cure" and e.loc["B", "end_date"] == F
    # D: M6 at Jan (dpd 170), charged off at Feb
    assert e.loc["D", "end_reason"] == "charged_off"
    # E: delinquent in Mar, closed in Apr -> other_exit, censored at Mar 31
    assert e.loc["E", "end_reason"] == "other_exit" and e.loc["E", "end_date"] == M
    assert set(e.index) == {"A", "B", "D", "E"}


def test_collection_cycle_by_hand(book):
    e = collection_episodes(book)
    c = collection_cycle(e)
    # durations (days): E 10 censored, B 44 resolved, A 91 censored, D 199 charged off
    # Aalen-Johansen: at 44, 3 at risk -> F_res = 1/3, S = 2/3; at 199, 1 at risk ->
    # F_co = 2/3 * 1/1 = 2/3
    assert c["episodes"].iloc[0] == 4
    assert c["resolved_share"].iloc[0] == pytest.approx(1 / 3)
    assert c["charged_off_share"].iloc[0] == pytest.approx(2 / 3)
    assert c["mean_cycle_days"].iloc[0] == pytest.approx(44)
    assert c["median_cycle_days"].iloc[0] == pytest.approx(44)
    curves = collection_cycle_curves(e)
    assert curves["days"].tolist() == [10.0, 44.0, 91.0, 199.0]
    total = curves["resolved"] + curves["charged_off"] + curves["unresolved"]
    np.testing.assert_allclose(total, 1.0)


def test_aalen_johansen_against_lifelines():
    from lifelines import AalenJohansenFitter

    rng = np.random.default_rng(3)
    n = 300
    durations = rng.exponential(100, n).round(3) + rng.uniform(0, 1e-3, n)  # no ties
    events = rng.choice([0, 1, 2], size=n, p=[0.3, 0.5, 0.2])
    ours = aalen_johansen(durations, events)
    for k in (1, 2):
        ajf = AalenJohansenFitter(calculate_variance=False)
        ajf.fit(durations, events, event_of_interest=k)
        theirs = ajf.cumulative_density_.iloc[:, 0]
        theirs = theirs[theirs.index > 0]
        np.testing.assert_allclose(
            ours[f"cif_{k}"].reindex(theirs.index, method="ffill").to_numpy(),
            theirs.to_numpy(),
            atol=1e-9,
        )


def test_aalen_johansen_ties_by_hand():
    # t=5: 4 at risk, one resolution and one charge-off tie -> each 1/4, S = 1/2;
    # a censoring tied at 5 leaves after the outcomes; t=9: 1 at risk, resolved
    aj = aalen_johansen([5, 5, 5, 9], [1, 2, 0, 1])
    assert aj.loc[5.0, "cif_1"] == pytest.approx(0.25)
    assert aj.loc[5.0, "cif_2"] == pytest.approx(0.25)
    assert aj.loc[9.0, "cif_1"] == pytest.approx(0.25 + 0.5)
    assert aj.loc[9.0, "at_risk"] == 1


def test_cycle_segments_and_open_episodes_without_end_date():
    e = pd.DataFrame(
        {
            "start_date": pd.to_datetime(["2024-01-01"] * 4),
            "end_date": pd.to_datetime(["2024-01-11", "2024-01-31", None, "2024-01-21"]),
            "end_reason": ["payment_cure", "paid_off", "open", "charged_off"],
            "product": ["x", "x", "y", "y"],
        }
    )
    c = collection_cycle(e, segment="product", data_end="2024-02-10").set_index("product")
    # x: resolutions at 10 and 30 days -> mean 20, median 10
    assert c.loc["x", "mean_cycle_days"] == pytest.approx(20)
    assert c.loc["x", "median_cycle_days"] == 10
    # y: charged off at 20 days (2 at risk -> 1/2), open episode censored at 40 days
    assert c.loc["y", "charged_off_share"] == pytest.approx(0.5)
    assert c.loc["y", "resolved_share"] == 0.0 and np.isnan(c.loc["y", "mean_cycle_days"])


def test_costs_per_unit_collected(book):
    actions = pd.DataFrame(
        {
            "account_id": ["A", "A", "D", "D", "E"],
            "ts": pd.to_datetime(
                [
                    "2024-02-05 10:00",
                    "2024-02-20 11:00",
                    "2024-03-03 09:00",
                    "2024-03-04 09:00",
                    "2024-03-09 09:00",
                ]
            ),  # fmt: skip
            "channel": ["call", "visit", "letter", "sms", "carrier_pigeon"],
        }
    )
    c = collection_costs(actions, book).set_index("month_end")
    # Feb: call 1.0 + visit 25.0 = 26; collected from the book (M1+ or charged off at
    # Jan): B 12 + D 0 = 12
    assert c.loc[F, "cost"] == pytest.approx(26.0)
    assert c.loc[F, "collected"] == pytest.approx(12.0)
    assert c.loc[F, "cost_per_unit_collected"] == pytest.approx(26 / 12)
    # Mar: letter 2.0 + sms 0.05; an unknown channel is counted, not costed;
    # collected: A 0 (M1 at Feb) + D 5 (charged off at Feb)
    assert c.loc[M, "uncosted_actions"] == 1
    assert c.loc[M, "cost_per_unit_collected"] == pytest.approx(2.05 / 5)
    cfg = Config.from_dict({"costs": {"per_action": {"call": 4.0}}})
    c2 = collection_costs(actions, book, config=cfg).set_index("month_end")
    assert c2.loc[F, "cost"] == pytest.approx(4.0 + 25.0)


def test_monthly_kpis_by_hand(book):
    k = monthly_kpis(book).set_index("month_end")
    # amount collected: Jan A 5; Feb B 12 + E 10; Mar B 40 + C 10 + D 5; Apr D 30
    assert k["amount_collected"].tolist() == [5.0, 22.0, 55.0, 30.0]
    # collection rate of the delinquent book (M1+ at start): Feb (B 12 + D 0) / (5 + 40)
    assert k.loc[F, "collection_rate"] == pytest.approx(12 / 45)
    assert k.loc[A, "collection_rate"] == 0.0
    # recovery in month on the charged-off book: Mar 5/60, Apr 30/55
    assert k.loc[M, "recovery_rate_in_month"] == pytest.approx(5 / 60)
    assert k.loc[A, "recovery_rate_in_month"] == pytest.approx(30 / 55)
    assert k.loc[F, "cure_rate"] == pytest.approx(0.5)
    assert k.loc[F, "charged_off_accounts"] == 1 and k.loc[A, "charged_off_accounts"] == 0
    assert np.isnan(k.loc[J, "cure_rate"])  # no previous month
    assert k.loc[J, "overdue_rate_30plus"] == pytest.approx(1 / 4)


def test_monthly_kpis_segments_add_up(book):
    product = {"A": "card", "B": "card", "E": "card", "C": "loan", "D": "loan", "F": "loan"}
    seg = monthly_kpis(book.assign(product=book["account_id"].map(product)), segment="product")
    total = monthly_kpis(book)
    summed = seg.groupby("month_end")[["amount_collected", "open_accounts"]].sum()
    np.testing.assert_allclose(summed["amount_collected"], total["amount_collected"])
    np.testing.assert_allclose(summed["open_accounts"], total["open_accounts"])
    for col in ("overdue_rate_30plus", "overdue_rate_90plus_balance", "cure_rate"):
        values = seg[col].dropna()
        assert len(values) and ((values >= 0) & (values <= 1)).all()


def test_plots_return_axes(book):
    assert plot_kpis(monthly_kpis(book)).get_title() == "Collection KPIs"
    curves = collection_cycle_curves(collection_episodes(book))
    assert plot_collection_cycle(curves).get_xlabel() == "days since episode start"


def test_repeated_exit_rows_still_count_their_payments(book):
    # a payment posted after payoff, on a repeated paid_off row, is still collected
    extra = book.copy()
    extra.loc[(extra["account_id"] == "B") & (extra["month_end"] == A), "paid_in_month"] = 7.0
    k = monthly_kpis(extra).set_index("month_end")
    assert k.loc[A, "amount_collected"] == pytest.approx(30.0 + 7.0)


def test_flows_and_kpi_sums_read_together_equal_each_read_alone():
    """One pass over the parts for both: the same sums as two separate passes."""
    config = Config()
    states = snapshot_states(aging.snapshots(load_sample(), config=config), config)
    pieces = list(PartitionedSnapshots.from_frame(states, 800))
    reads: list[int] = []

    def parts() -> PartitionedSnapshots:
        loaders = [lambda p=p: reads.append(1) or p for p in pieces]
        return PartitionedSnapshots(loaders, columns=states.columns, months=states["month_no"])

    alone = parts()
    flows, sums = flow_totals(alone, config, []), kpi_totals(alone, config, [])
    together = parts()
    reads.clear()
    read_flows_and_kpis(together, config, [])
    assert len(reads) == len(pieces)  # one pass for both
    assert_frame_equal(flow_totals(together, config, []), flows)
    got = kpi_totals(together, config, [])
    for name, table in sums.items():
        assert_frame_equal(got[name], table, obj=name)
    assert len(reads) == len(pieces)  # remembered: nothing read again
    assert flows["count"].sum() > 1000
