"""The report's analyses read the snapshots once per kind of result (recovery.report.sections).

A book of a million accounts is analysed part by part, and every pass over the parts
costs minutes: the report computes what several sections share once — the KPI moments
of the book and of each segment in one pass, the rows at the report month for the book
table and the forecast, the charge-off cells for both recovery forecasts — and the
results stay those of the direct computation.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from recovery import report
from recovery.analytics.partitions import PartitionedSnapshots
from recovery.analytics.variation import kpi_moments
from recovery.report.data import example_report_data


@pytest.fixture
def reads(monkeypatch):
    """How many times a part of any partitioned table is read."""
    count = {"parts": 0}
    original = PartitionedSnapshots.partition

    def counted(self, i):
        count["parts"] += 1
        return original(self, i)

    monkeypatch.setattr(PartitionedSnapshots, "partition", counted)
    return count


@pytest.fixture(scope="module")
def sample_data():
    from recovery.datasets import sample_path

    return report.load_report_data(sample_path(), "2025-06")


@pytest.fixture(scope="module")
def parted_data(tmp_path_factory):
    from recovery.config import Config
    from recovery.datasets import load_sample
    from recovery.engine.partitioning import write_partitioned

    target = write_partitioned(
        load_sample(), tmp_path_factory.mktemp("parts") / "book", 3, Config()
    )
    return report.load_report_data(target, "2025-12")


def _two_segments():
    """Two accounts, one card in the north, one loan in the north (the example data)."""
    data = example_report_data()
    snaps = data.snapshots.assign(
        product=data.snapshots["account_id"].map({"A": "card", "B": "loan"}), region="north"
    )
    return dataclasses.replace(data, snapshots=snaps, extras={})


def test_moments_by_segment_worked_by_hand():
    data = _two_segments()
    by_product = report.report_moments(data, "product")
    late = by_product[by_product["kpi"] == "overdue_rate_30plus"]
    # B (loan) is 40 days past due at the end of September, A (card) never is
    assert late["product"].tolist() == ["card", "loan"] * 3
    assert late["n"].tolist() == [1] * 6
    assert late["sum_y"].tolist() == [0.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    book = report.report_moments(data)
    late = book[book["kpi"] == "overdue_rate_30plus"]
    assert late["n"].tolist() == [2, 2, 2] and late["sum_y"].tolist() == [0.0, 1.0, 0.0]
    by_region = report.report_moments(data, "region")  # one region: the book's sums
    pd.testing.assert_frame_equal(
        by_region.drop(columns="region"), book, check_exact=False, rtol=1e-12
    )


@pytest.mark.parametrize("segment", [None, "product", "region"])
def test_moments_equal_their_direct_computation(sample_data, segment):
    data = dataclasses.replace(sample_data, extras={})
    source = None if segment is None or segment in data.history.columns else data.accounts
    direct = kpi_moments(data.history, data.config, segment=segment, accounts=source)
    pd.testing.assert_frame_equal(
        report.report_moments(data, segment), direct, check_exact=False, rtol=1e-12, atol=1e-9
    )


def test_moments_and_segment_movements_compute_the_moments_once(sample_data, monkeypatch):
    import recovery.analytics.variation as variation

    data = dataclasses.replace(sample_data, extras={})
    calls = []
    original = variation.kpi_moments

    def counted(table, *args, **kwargs):
        if not isinstance(table, dict):  # not the sums of one part's units
            calls.append(kwargs.get("segment"))
        return original(table, *args, **kwargs)

    monkeypatch.setattr(variation, "kpi_moments", counted)
    report.report_moments(data)
    top = report.segment_movements(data, top=4)
    everything = report.segment_movements(data)
    assert calls == [["product", "region"]]  # one computation, by both segments
    pd.testing.assert_frame_equal(top, everything.head(4))


def test_a_partitioned_book_is_read_once_for_all_the_moments(parted_data, reads):
    data = dataclasses.replace(parted_data, extras=dict(parted_data.extras))
    data.extras.pop("moments", None)
    parts = data.history.npartitions
    report.report_moments(data)
    assert reads["parts"] == parts
    report.segment_movements(data)
    report.segment_movements(data, top=4)
    assert reads["parts"] == parts  # the segments' moments are sums of the same pass


def test_book_table_and_forecast_share_their_reads(parted_data, reads):
    data = dataclasses.replace(parted_data, extras=dict(parted_data.extras))
    history = data.history
    history.forget()
    parts = history.npartitions
    book = report.book_by_state(history, data.month, data.config)
    assert reads["parts"] == parts  # the rows at the report month, once
    direct = report.book_by_state(history.collect(), data.month, data.config)
    pd.testing.assert_frame_equal(book, direct, check_exact=False, rtol=1e-12)
    reads["parts"] = 0
    report.forecast_summary(data)
    # the transitions, the charge-off cells (shared by both recovery forecasts) and the
    # actual totals: three passes; the rows at the report month are remembered
    assert reads["parts"] == 3 * parts


def test_about_table_counts_the_accounts_without_reading_the_parts(parted_data, reads):
    html = report.about_html(parted_data)
    assert reads["parts"] == 0
    counted = sum(int(p["account_id"].nunique()) for p in parted_data.history)
    assert f"<td>Accounts in the snapshots</td><td>{counted:,}</td>" in html


def test_charged_off_debt_months_are_taken_from_the_delinquent_ones(parted_data, reads):
    from recovery.analytics.debt_age import recovery_observations

    data = parted_data
    history = data.history
    history.forget()
    parts = history.npartitions
    wider = recovery_observations(history, data.config, scope="delinquent", data_end=data.month)
    assert reads["parts"] == parts
    charged = recovery_observations(history, data.config, data_end=data.month)
    assert reads["parts"] == parts  # no second pass
    assert len(charged) and len(charged) < len(wider)
    history.forget()
    direct = recovery_observations(history, data.config, data_end=data.month)
    pd.testing.assert_frame_equal(charged, direct)


def test_prepared_states_gain_segments_without_being_prepared_again(sample_data):
    from recovery.analytics.states import snapshot_states

    data = sample_data
    part = data.history.partition(0)  # prepared when the snapshots were built
    plain = part.drop(columns=[c for c in part.columns if c in ("state", "first_exit")])
    plain.attrs = {}
    direct = snapshot_states(plain, data.config, ["product", "region"], data.accounts)
    quick = snapshot_states(part, data.config, ["product", "region"], data.accounts)
    pd.testing.assert_frame_equal(quick, direct[quick.columns])
    assert quick.attrs == direct.attrs
    assert "region" not in part.columns  # the part itself is left as it was


def test_collection_cycle_by_month_reads_only_its_columns():
    e = pd.DataFrame(
        {
            "account_id": ["A", "B", "C", "D"],
            "start_date": pd.to_datetime(["2024-01-05", "2026-01-05", "2026-03-10", "2026-09-01"]),
            "end_date": pd.to_datetime(["2024-02-01", "2026-02-04", "2026-11-20", None]),
            "end_reason": ["payment_cure", "payment_cure", "paid_off", "open"],
            "note": ["x"] * 4,
        }
    )
    c = report.collection_cycle_by_month(e, ["2026-10-31", "2024-01-31"])
    # October 2026: B cured in 30 days; C (paid off later) and D censored; A too old
    # January 2024: only A, still open then
    assert c["episodes"].tolist() == [3, 1]
    assert c["average_collection_cycle_days"].iloc[0] == 30.0
    assert pd.isna(c["average_collection_cycle_days"].iloc[1])


def test_transitions_carry_text_segments_as_the_merge_does(sample_data):
    from recovery.analytics.states import snapshot_states, transitions

    data = sample_data
    states = snapshot_states(data.history.partition(0), data.config, ["region"], data.accounts)
    fast = transitions(states, data.config, ["region"])
    # independently: the transitions without segments, each row given the account's
    # region at its start month (at the next month for an account entering the book)
    plain = transitions(data.history.partition(0), data.config)
    entering = plain["from_state"].eq("new")
    at = plain["month_end"].where(~entering, plain["next_month_end"])
    region = states.set_index(["account_id", "month_end"])["region"]
    expected = region.reindex(pd.MultiIndex.from_arrays([plain["account_id"], at])).to_numpy()
    assert fast.columns.tolist() == [*plain.columns[:3], "region", *plain.columns[3:]]
    pd.testing.assert_frame_equal(fast.drop(columns="region"), plain)
    assert (fast["region"].to_numpy() == expected).all() and fast["region"].notna().all()
    # the merge (a segment of another type) gives the same table
    slow = transitions(
        states.assign(region=states["region"].astype("category")), data.config, ["region"]
    )
    pd.testing.assert_frame_equal(fast, slow.assign(region=slow["region"].astype(object)))
