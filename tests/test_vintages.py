"""Vintage curves on hand-built books.

Vintage 2024-01 (principal): V1 100, V2 300, V3 100; vintage 2024-02: W1 200, W2 100.

=====  ==========  ==========  ==========  =====================
acct   2024-01-31  2024-02-29  2024-03-31  2024-04-30
=====  ==========  ==========  ==========  =====================
V1     dpd 0       dpd 31      dpd 61      dpd 92
V2     0           0           0           0
V3     0           15          0           paid_off
W1     —           0           30          charged_off (dpd 75)
W2     —           0           0           0
=====  ==========  ==========  ==========  =====================

The config charges off at 60 DPD, so W1's charge-off counts as 60+ but not as 90+.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from recovery.analytics.vintages import plot_vintage_curves, vintage_curves
from recovery.config import Config

MONTHS = pd.to_datetime(["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"])
CFG = Config.from_dict({"aging": {"charge_off_dpd": 60}})


def _rows(account, start, dpds, statuses=None):
    statuses = statuses or ["open"] * len(dpds)
    return [
        {"account_id": account, "month_end": MONTHS[start + i], "dpd": d, "status": st,
         "balance": 0.0 if st == "paid_off" else 100.0}
        for i, (d, st) in enumerate(zip(dpds, statuses, strict=True))
    ]  # fmt: skip


@pytest.fixture
def book():
    rows = (
        _rows("V1", 0, [0, 31, 61, 92])
        + _rows("V2", 0, [0, 0, 0, 0])
        + _rows("V3", 0, [0, 15, 0, 0], ["open", "open", "open", "paid_off"])
        + _rows("W1", 1, [0, 30, 75], ["open", "open", "charged_off"])
        + _rows("W2", 1, [0, 0, 0])
    )
    snaps = pd.DataFrame(rows)
    snaps["bucket"] = np.where(snaps["status"].eq("open"), CFG.aging.bucket_of(snaps["dpd"]), None)
    accounts = pd.DataFrame(
        {
            "account_id": ["V1", "V2", "V3", "W1", "W2"],
            "origination_date": pd.to_datetime(
                ["2024-01-05", "2024-01-20", "2024-01-31", "2024-02-01", "2024-02-28"]
            ),
            "principal": [100.0, 300.0, 100.0, 200.0, 100.0],
            "product": ["a", "a", "b", "a", "b"],
        }
    )
    return snaps, accounts


def test_curves_by_hand(book):
    snaps, accounts = book
    c = vintage_curves(snaps, accounts, config=CFG).set_index(["vintage", "months_on_book"])
    # 2024-01: observed at MOB 0..3; 2024-02 at MOB 0..2 (censored at the table end)
    assert list(c.loc["2024-01"].index) == [0, 1, 2, 3]
    assert list(c.loc["2024-02"].index) == [0, 1, 2]
    jan = c.loc["2024-01"]
    assert (jan["accounts"] == 3).all() and (jan["amount"] == 500).all()
    # V1 is 31 DPD at MOB 1: ever 30+ 1/3 by count, 100/500 by principal; V3's 15 DPD
    # never counts
    assert jan["ever_30plus"].tolist() == pytest.approx([0, 1 / 3, 1 / 3, 1 / 3])
    assert jan["ever_30plus_balance"].tolist() == pytest.approx([0, 0.2, 0.2, 0.2])
    assert jan["ever_60plus"].tolist() == pytest.approx([0, 0, 1 / 3, 1 / 3])
    assert jan["ever_90plus"].tolist() == pytest.approx([0, 0, 0, 1 / 3])
    assert (jan["ever_charged_off"] == 0).all()
    feb = c.loc["2024-02"]
    # W1: 30 DPD at MOB 1 (30+ includes 30), charged off at MOB 2 with dpd 75
    assert feb["ever_30plus"].tolist() == pytest.approx([0, 0.5, 0.5])
    assert feb["ever_30plus_balance"].tolist() == pytest.approx([0, 200 / 300, 200 / 300])
    assert feb["ever_60plus"].tolist() == pytest.approx([0, 0, 0.5])  # charge-off >= 60
    assert feb["ever_90plus"].tolist() == pytest.approx([0, 0, 0])  # 75 DPD, threshold 60
    assert feb["ever_charged_off"].tolist() == pytest.approx([0, 0, 0.5])
    assert not c["left_censored"].any()


def test_curves_are_monotone_and_in_unit_interval(book):
    snaps, accounts = book
    c = vintage_curves(snaps, accounts, config=CFG, thresholds=(1, 30, 60, 90))
    rates = [col for col in c.columns if col.startswith("ever_")]
    assert ((c[rates] >= 0) & (c[rates] <= 1)).all().all()
    diffs = c.groupby("vintage")[rates].diff().dropna()
    assert (diffs >= -1e-12).all().all()
    # ever 1+ in 2024-01 by MOB 1: V1 (31) and V3 (15)
    jan = c[c["vintage"] == "2024-01"].set_index("months_on_book")
    assert jan.loc[1, "ever_1plus"] == pytest.approx(2 / 3)


def test_snapshots_only_uses_first_month_and_first_balance(book):
    snaps, _ = book
    c = vintage_curves(snaps, config=CFG)
    # without accounts: vintages are first snapshot months, amount the first balance
    assert set(c["vintage"]) == {"2024-01", "2024-02"}
    assert (c.loc[c["vintage"] == "2024-01", "amount"] == 300.0).all()
    jan = c[c["vintage"] == "2024-01"]
    assert jan["ever_30plus_balance"].tolist() == pytest.approx([0, 1 / 3, 1 / 3, 1 / 3])


def test_segments_and_left_censoring(book):
    snaps, accounts = book
    c = vintage_curves(snaps, accounts, config=CFG, segment="product")
    a = c[(c["vintage"] == "2024-01") & (c["product"] == "a")]
    assert (a["accounts"] == 2).all()  # V1, V2
    assert a["ever_30plus"].tolist() == pytest.approx([0, 0.5, 0.5, 0.5])
    old = accounts.assign(origination_date=pd.Timestamp("2023-11-15"))
    c_old = vintage_curves(snaps, old, config=CFG)
    # all originated in Nov 2023, table starts Jan 2024 (MOB 2): left-censored
    assert c_old["months_on_book"].tolist() == [2, 3, 4, 5]
    assert c_old["left_censored"].all()
    assert c_old["accounts"].iloc[0] == 5


def test_plot_returns_axes(book):
    snaps, accounts = book
    ax = plot_vintage_curves(vintage_curves(snaps, accounts, config=CFG), "ever_60plus")
    assert len(ax.get_lines()) == 2


def test_year_cohorts_count_accounts_observed_at_each_mob(book):
    snaps, accounts = book
    c = vintage_curves(snaps, accounts, config=CFG, cohort="year").set_index("months_on_book")
    assert set(c["vintage"]) == {"2024"}
    # MOB 0-2: all five loans observed; MOB 3: only the January ones (V1-V3)
    assert c["accounts"].tolist() == [5, 5, 5, 3]
    # MOB 1: V1 (31 DPD) and W1 (30 DPD) -> 2/5; by principal (100 + 200) / 800
    assert c.loc[1, "ever_30plus"] == pytest.approx(2 / 5)
    assert c.loc[1, "ever_30plus_balance"] == pytest.approx(300 / 800)
    # MOB 2: V1 61 DPD, W1 charged off (>= 60 under this config) -> 2/5
    assert c.loc[2, "ever_60plus"] == pytest.approx(2 / 5)
    # MOB 3: among V1-V3 only V1 -> 1/3, and amount is theirs (500)
    assert c.loc[3, "ever_30plus"] == pytest.approx(1 / 3)
    assert c.loc[3, "amount"] == pytest.approx(500)
    complete = vintage_curves(snaps, accounts, config=CFG, cohort="year", complete_only=True)
    assert complete["months_on_book"].tolist() == [0, 1, 2]  # MOB 3 lacks W1, W2
    q = vintage_curves(snaps, accounts, config=CFG, cohort="quarter")
    assert set(q["vintage"]) == {"2024Q1"}
    with pytest.raises(ValueError, match="cohort"):
        vintage_curves(snaps, accounts, cohort="week")
