"""Analytics of a snapshots table split by account equal those of the whole table.

Each analytic that ``recovery analyze`` and ``recovery report`` run is computed once on
the whole table (the reference: the pandas code path as before) and again on a
:class:`~recovery.analytics.partitions.PartitionedSnapshots` of the same rows, split
into parts of several sizes — including parts of 7 accounts (hundreds of parts, most
months missing from most parts) and a split leaving one account alone in the last
part — with the rows shuffled. The results must be equal: exactly for counts and
labels, within 1e-9 for sums of money added in another order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from recovery.analytics import backtest as bt
from recovery.analytics import collection_cycle as cc
from recovery.analytics import forecast as fc
from recovery.analytics import kpis
from recovery.analytics import liquidation as lq
from recovery.analytics import recovery_curves as rc
from recovery.analytics import roll_rates as rr
from recovery.analytics import vintages as vt
from recovery.analytics.partitions import (
    CompactPart,
    PartitionedSnapshots,
    concat_parts,
    sum_partials,
)
from recovery.analytics.states import snapshot_states
from recovery.config import Config
from recovery.datasets import load_sample
from recovery.errors import DataError
from recovery.timeline import aging

CFG = Config()


def _analytics(portfolio) -> dict:
    """Every analytic of analyze and report, as name -> function of a snapshots table."""
    acc, actions = portfolio.accounts, portfolio.actions
    end = "2024-06-30"
    return {
        "roll_rates": lambda s: rr.roll_rates(s, CFG, confidence=0.95),
        "roll_rates_by_product": lambda s: rr.roll_rates(s, CFG, segment="product", accounts=acc),
        "matrix_balance": lambda s: rr.roll_rate_matrix(s, weight="balance", config=CFG),
        "matrix_one_month": lambda s: rr.roll_rate_matrix(s, month=end, config=CFG),
        "trends": lambda s: rr.roll_rate_trends(s, config=CFG),
        "trends_3m_balance": lambda s: rr.roll_rate_trends(
            s, weight="balance", config=CFG, window=3
        ),
        "flow_rates": lambda s: rr.flow_rates(s, config=CFG),
        "flow_rates_by_product": lambda s: rr.flow_rates(s, config=CFG, segment="product"),
        "vintages": lambda s: vt.vintage_curves(s, acc, config=CFG),
        "vintages_yearly": lambda s: vt.vintage_curves(
            s, acc, config=CFG, cohort="year", complete_only=True
        ),
        "monthly_kpis": lambda s: kpis.monthly_kpis(s, CFG, accounts=acc, actions=actions),
        "monthly_kpis_by_product": lambda s: kpis.monthly_kpis(
            s, CFG, segment="product", accounts=acc, actions=actions
        ),
        "collection_rates": lambda s: kpis.collection_rates(s, CFG),
        "recovery_rates": lambda s: kpis.recovery_rates(s, CFG),
        "collection_costs_by_region": lambda s: kpis.collection_costs(
            actions, s, CFG, segment="region", accounts=acc
        ),
        "collection_episodes": lambda s: cc.collection_episodes(s, CFG),
        "recovery_by_age": lambda s: rc.recovery_by_age(s, CFG, bands="coarse"),
        "recovery_by_age_delinquent": lambda s: rc.recovery_by_age(s, CFG, scope="delinquent"),
        "recovery_by_amount_band": lambda s: rc.recovery_by_age(
            s, CFG, bands="coarse", by="amount_band", n_bootstrap=0
        ),
        "age_split": lambda s: rc.age_split_comparison(s, CFG),
        "age_split_by_amount": lambda s: rc.age_split_comparison(s, CFG, by="amount_band"),
        "recovery_drivers": lambda s: rc.recovery_drivers(s, CFG),
        "cumulative_curves": lambda s: rc.cumulative_recovery_curves(s, CFG),
        "liquidation_curves": lambda s: lq.liquidation_curves(s),
        "erc": lambda s: lq.ERCForecaster(config=CFG).fit(s).summary(),
        "erc_at_origin": lambda s: lq.ERCForecaster(config=CFG).fit(s, data_end=end).predict(12),
        "roll_rate_forecast": lambda s: fc.RollRateForecaster(config=CFG).fit(s).predict(12),
        "roll_rate_forecast_at_origin": lambda s: (
            fc.RollRateForecaster(config=CFG).fit(s, data_end=end).predict_totals(12)
        ),
        "actual_totals": lambda s: bt.actual_totals(s, CFG),
        "backtest": lambda s: bt.backtest_roll_rate(
            s, origins=["2024-03-31", "2024-09-30"], months_ahead=3, config=CFG
        ),
    }


def _as_frame(result) -> pd.DataFrame:
    return result.to_frame() if isinstance(result, pd.Series) else result


def _assert_same(whole, parted, name: str) -> None:
    whole, parted = _as_frame(whole), _as_frame(parted)
    if isinstance(whole.index, pd.RangeIndex):
        whole, parted = whole.reset_index(drop=True), parted.reset_index(drop=True)
    assert len(whole), f"{name}: the reference is empty, the test would prove nothing"
    assert_frame_equal(whole, parted, check_exact=False, rtol=1e-9, atol=1e-9, obj=name)


@pytest.fixture(scope="module")
def sample():
    portfolio = load_sample()
    snaps = aging.snapshots(portfolio, config=CFG)
    return portfolio, snaps


@pytest.fixture(scope="module")
def reference(sample):
    portfolio, snaps = sample
    return {name: f(snaps) for name, f in _analytics(portfolio).items()}


@pytest.mark.slow
@pytest.mark.parametrize("size", [333, 1999])
def test_every_analytic_of_parts_equals_the_whole_table(sample, reference, size):
    portfolio, snaps = sample
    shuffled = snaps.sample(frac=1.0, random_state=size)  # parts need no order
    parts = PartitionedSnapshots.from_frame(snapshot_states(shuffled, CFG), size)
    assert parts.npartitions == -(-snaps["account_id"].nunique() // size)
    for name, f in _analytics(portfolio).items():
        _assert_same(reference[name], f(parts), name)


def test_tiny_parts_most_months_missing(sample):
    """Parts of 7 accounts: months absent from a part are still months of the table."""
    portfolio, snaps = sample
    some = snaps[snaps["account_id"].isin(snaps["account_id"].unique()[:350])]
    parts = PartitionedSnapshots.from_frame(some, 7)
    assert parts.npartitions == 50
    funcs = _analytics(portfolio)
    for name in ("roll_rates", "flow_rates", "monthly_kpis", "vintages", "recovery_rates"):
        _assert_same(funcs[name](some), funcs[name](parts), name)


def test_a_part_read_from_parquet_equals_the_frame(sample, tmp_path):
    _, snaps = sample
    states = snapshot_states(snaps, CFG)
    files = []
    for i, part in enumerate(PartitionedSnapshots.from_frame(states, 900)):
        files.append(tmp_path / f"part-{i}.parquet")
        part.to_parquet(files[-1])
    parts = PartitionedSnapshots.from_parquet(files)
    assert parts.npartitions == 3 and len(parts) == len(snaps)
    # read back, a part is still prepared: the states are not derived again
    assert snapshot_states(parts.partition(0), CFG) is not None
    _assert_same(rr.roll_rates(states, CFG), rr.roll_rates(parts, CFG), "roll_rates")


def test_hand_worked_book_split_in_two():
    """Two accounts, one per part: A goes M1 -> M0 (a cure), B goes M1 -> M2."""
    s = pd.DataFrame(
        {
            "account_id": ["A", "B", "A", "B"],
            "month_end": pd.to_datetime(["2024-01-31"] * 2 + ["2024-02-29"] * 2),
            "dpd": [5, 5, 0, 35],
            "bucket": ["M1", "M1", "M0", "M2"],
            "balance": [30.0, 10.0, 25.0, 10.0],
            "amount_overdue": [3.0, 1.0, 0.0, 2.0],
            "paid_in_month": [0.0, 0.0, 8.0, 0.0],
            "status": ["open"] * 4,
        }
    )
    parts = PartitionedSnapshots.from_frame(s, 1)
    rates = rr.roll_rates(parts)
    # from M1: one account of two to each state; balance 30 of 40 cured
    assert rates[["to_state", "count", "count_rate", "balance_rate"]].values.tolist() == [
        ["M0", 1, 0.5, 0.75],
        ["M2", 1, 0.5, 0.25],
    ]
    trend = rr.roll_rate_trends(parts)
    assert trend[["cure", "roll_forward"]].values.tolist() == [[0.5, 0.5]]
    # collected in February on the M1 book: 8 of the 4 overdue at the end of January
    coll = kpis.collection_rates(parts)
    assert coll.loc[coll["state"] == "M1", "collection_rate"].tolist() == [2.0]


def test_months_and_data_end_come_from_the_whole_table():
    a = pd.DataFrame({"account_id": ["A"], "month_end": pd.to_datetime(["2024-01-31"])})
    b = pd.DataFrame({"account_id": ["B"], "month_end": pd.to_datetime(["2024-04-30"])})
    parts = PartitionedSnapshots([a, lambda: b])
    assert parts.months.tolist() == [24288, 24291]
    assert parts.data_end == pd.Timestamp("2024-04-30")
    assert len(parts) == 2 and parts.collect()["account_id"].tolist() == ["A", "B"]


def test_memo_reads_once_and_keeps_identity_keys():
    parts = PartitionedSnapshots([pd.DataFrame({"a": [1]})])
    config, calls = Config(), []
    first = parts.memo(("x", config), lambda: calls.append(1) or 1)
    again = parts.memo(("x", config), lambda: calls.append(1) or 2)
    other = parts.memo(("x", Config()), lambda: calls.append(1) or 3)  # another object
    assert (first, again, other, len(calls)) == (1, 1, 3, 2)
    assert parts.recall(("x", config)) == 1 and parts.recall(("y",)) is None


def test_sum_and_concat_of_partials():
    a = pd.DataFrame({"k": ["x", "y"], "n": [1, 2], "v": [0.5, 1.5]})
    b = pd.DataFrame({"k": ["y", "z"], "n": [3, 4], "v": [2.0, 1.0]})
    total = sum_partials([a, b, a.iloc[:0]], ["k"])
    assert total.values.tolist() == [["x", 1, 0.5], ["y", 5, 3.5], ["z", 4, 1.0]]
    assert sum_partials([a.iloc[:0]], ["k"]).empty  # nothing to add up: empty, no error
    assert concat_parts([a, b])["n"].tolist() == [1, 2, 3, 4]
    with pytest.raises(DataError, match="no rows"):
        sum_partials([], ["k"])


def test_bad_partition_size_is_refused():
    with pytest.raises(DataError, match="partition_size must be at least 1"):
        PartitionedSnapshots.from_frame(pd.DataFrame({"account_id": ["A"]}), 0)
    with pytest.raises(DataError, match="at least one part"):
        PartitionedSnapshots([])


@pytest.mark.slow
def test_simulated_20k_book_parts_equal_the_whole():
    """A 20,000-account simulated book, parts of 3,001 accounts (the last one smaller)."""
    from recovery.simulate import simulate_portfolio

    portfolio, _ = simulate_portfolio(n_accounts=20_000, months=36, seed=5)
    snaps = aging.snapshots(portfolio, config=CFG)
    states = snapshot_states(snaps, CFG)  # prepared: sorted by account and month
    parts = PartitionedSnapshots.from_frame(snapshot_states(snaps.sample(frac=1.0), CFG), 3_001)
    assert parts.npartitions == 7
    funcs = _analytics(portfolio)
    funcs["backtest"] = lambda s: bt.backtest_roll_rate(
        s, origins=["2020-06-30", "2021-03-31"], months_ahead=3, config=CFG
    )
    for name in (
        "roll_rates",
        "matrix_balance",
        "trends",
        "flow_rates",
        "vintages",
        "monthly_kpis",
        "collection_episodes",
        "recovery_by_age",
        "age_split",
        "cumulative_curves",
        "liquidation_curves",
        "erc",
        "roll_rate_forecast",
        "backtest",
    ):
        _assert_same(funcs[name](states), funcs[name](parts), name)
    assert np.isclose(
        rr.roll_rate_matrix(parts).sum(axis=1), 1.0
    ).all()  # an invariant besides equality


def test_a_status_only_table_in_parts_says_what_it_needs():
    """No balances or payments: the amount-based analytics refuse before reading a part."""
    from recovery.errors import MissingColumnError

    s = pd.DataFrame(
        {
            "account_id": ["A", "A", "B"],
            "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-02-29"]),
            "dpd": [200, 230, 0],
            "bucket": [None, None, "M0"],
            "status": ["charged_off", "charged_off", "open"],
        }
    )
    parts = PartitionedSnapshots.from_frame(s, 1)
    for f in (rc.recovery_by_age, rc.cumulative_recovery_curves, lq.liquidation_curves):
        with pytest.raises(MissingColumnError, match="balance"):
            f(parts)
    rates = rr.roll_rates(parts)  # counts need no amounts: A stays charged off, B enters
    moves = sorted(map(tuple, rates[["from_state", "to_state", "count"]].values.tolist()))
    assert moves == [("charged_off", "charged_off", 1), ("new", "M0", 1)]
    assert "balance_rate" not in rates


def test_a_compact_part_gives_back_the_same_table(sample):
    _, snaps = sample
    states = snapshot_states(snaps, CFG)
    odd = states.head(500).assign(
        note=["x", None] * 250,  # text with gaps: kept as it is
        big=np.arange(500, dtype=np.int64) * 10**12,  # too large for a small type
        stamp=pd.Timestamp("2024-01-31 13:45") + pd.to_timedelta(np.arange(500), "h"),
    )
    odd.loc[3, "charge_off_date"] = pd.NaT
    for frame in (states, odd, states.iloc[:0]):
        part = CompactPart(frame)
        back = part()
        assert_frame_equal(back, frame.reset_index(drop=True), check_exact=True)
        assert back.attrs == frame.attrs
        back.loc[0:5, "balance"] = -1.0  # editing what was given back leaves the part alone
        assert_frame_equal(part(), frame.reset_index(drop=True), check_exact=True)
    assert CompactPart(states).nbytes < 0.5 * states.memory_usage(deep=True).sum()
    # the states of a part stay prepared: not derived again when read
    assert snapshot_states(CompactPart(states)(), CFG) is not None


def test_forget_keeps_the_small_sums_and_drops_account_rows():
    parts = PartitionedSnapshots([pd.DataFrame({"a": [1]})])
    small = parts.memo(("sums",), lambda: pd.DataFrame({"n": [1, 2]}))
    parts.memo(("rows",), lambda: (pd.DataFrame({"n": np.arange(100_000)}), None))
    parts.forget(keep_below=100_000)
    assert parts.recall(("sums",)) is small and parts.recall(("rows",)) is None
    parts.forget()
    assert parts.recall(("sums",)) is None


def test_kept_rows_outlive_forget_until_everything_is_forgotten():
    parts = PartitionedSnapshots([pd.DataFrame({"a": [1]})])
    rows = pd.DataFrame({"n": np.arange(100_000)})
    parts.memo(("big",), lambda: pd.DataFrame({"n": np.arange(100_000)}))
    assert parts.keep(("kept",), (3, rows))[1] is rows
    parts.forget(keep_below=1_000)
    assert parts.recall(("big",)) is None and parts.recall(("kept",))[1] is rows
    # keeping again under the same key replaces the value
    parts.keep(("kept",), (1, rows.head(2)))
    assert parts.recall(("kept",))[0] == 1 and len(parts.recall(("kept",))[1]) == 2
    parts.forget()
    assert parts.recall(("kept",)) is None
