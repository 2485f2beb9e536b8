"""The feature matrix's frame (recovery.timeline.catalogue.feature_frame)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recovery.config import Config
from recovery.timeline.catalogue import feature_frame


def _columns(account_id, as_of):
    shared = np.array([1.0, 2.0, 3.0])
    return {
        "account_id": np.array(account_id, dtype=object),
        "as_of": pd.to_datetime(as_of).to_numpy(),
        "balance": shared,  # money: stays float64, as given
        "amount_overdue": shared,  # the same array under a second name
        "dpd": np.array([5, 0, 7]),  # days: float32
        "paid_amount_30d": np.arange(6.0)[::2],  # a view of a larger array
        "guarantor_contacted": np.array([1, 0, 1]),  # flag: nullable boolean
        "last_outcome": np.array(["no_answer", None, "refusal"], dtype=object),  # text
    }


def test_sorted_pairs_keep_their_arrays_as_their_own_columns():
    cols = _columns(["A", "A", "B"], ["2024-01-31", "2024-02-29", "2024-01-31"])
    X = feature_frame(cols, Config())
    assert X["account_id"].tolist() == ["A", "A", "B"]
    assert X["dpd"].dtype == np.float32 and X["balance"].dtype == np.float64
    assert X["guarantor_contacted"].dtype == "boolean"
    assert X["last_outcome"].dtype == "string" and X["last_outcome"].isna().tolist()[1]
    # the arrays given become the columns (no copy of the matrix), but each column is its
    # own writeable array: writing one changes no other column
    assert np.shares_memory(X["balance"].to_numpy(), cols["balance"])
    X.loc[0, "balance"] = 99.0
    X.loc[0, "paid_amount_30d"] = 99.0
    assert X["amount_overdue"].tolist() == [1.0, 2.0, 3.0]
    assert X["paid_amount_30d"].tolist() == [99.0, 2.0, 4.0]
    assert X.shape == (3, 8)
    # a categorical given under two names is two columns too
    cat = pd.Categorical(["M1", "M0", "M1"], categories=["M0", "M1"])
    Y = feature_frame({**cols, "bucket": cat, "bucket_copy": cat}, Config())
    Y.loc[0, "bucket"] = "M0"
    assert Y["bucket_copy"].tolist() == ["M1", "M0", "M1"]


def test_unsorted_pairs_are_sorted_by_account_then_as_of():
    cols = _columns(["B", "A", "A"], ["2024-01-31", "2024-02-29", "2024-01-31"])
    X = feature_frame(cols, Config())
    assert X["account_id"].tolist() == ["A", "A", "B"]
    assert X["as_of"].dt.strftime("%m-%d").tolist() == ["01-31", "02-29", "01-31"]
    assert X["balance"].tolist() == [3.0, 2.0, 1.0]
    assert X["dpd"].tolist() == [7.0, 0.0, 5.0]
    assert X["last_outcome"].tolist()[0] == "refusal"
    # ids that are not text are sorted as text (as the matrix always did): "10" < "9"
    ids = feature_frame(_columns([9, 10, 10], ["2024-01-31"] * 3), Config())["account_id"]
    assert ids.tolist() == [10, 10, 9]
