"""Tests of recovery.models on synthetic data whose true probabilities are known.

The data-generating process (``synthetic_frame``) draws features for overdue
(account, month end) pairs and a payment outcome from a known logistic model with
a threshold effect and a stage-dependent intercept, so the checks against the truth
(mean |p̂ − p_true|, ECE, oracle AUC) are real. Bounds are loose because the data is
small (a few thousand rows per test period); the benchmark holds the strict ones.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge

from recovery.config import Config
from recovery.errors import ConfigError, DataError, ModelCardError
from recovery.models import (
    Calibrator,
    Scorer,
    assign_stage,
    auc,
    calibration_table,
    choose_calibration,
    classification_metrics,
    default_estimator,
    evaluation_report,
    expected_calibration_error,
    ks_statistic,
    lift_table,
    load_model,
    out_of_time_masks,
    out_of_time_split,
    performance_by_month,
    population_stability_index,
    score_band,
    score_table,
    stability_by_month,
    validation_masks,
)

MONTHS = pd.date_range("2022-01-31", periods=18, freq="ME")


def synthetic_frame(n_accounts: int = 1500, seed: int = 0, shift_after=None) -> pd.DataFrame:
    """Overdue pairs with a known p_pay_true and a drawn outcome ``p_pay``.

    logit p = stage intercept (early 0.3, late -1.0, charged off -2.5)
              - 0.012 * dpd + 0.6 * kept_promises + 1.0 * [days_since_payment < 30]
              + 0.5 * has_guarantor + 0.4 * [product == "small_business"]
    ``gender`` is drawn but has no effect (a protected attribute, never a feature).
    ``shift_after``: from that month on, dpd is drawn higher (a population shift).
    """
    rng = np.random.default_rng(seed)
    rows = []
    for month in MONTHS:  # 18 months
        ids = rng.choice(n_accounts, size=n_accounts // 3, replace=False)
        n = len(ids)
        shifted = shift_after is not None and month >= pd.Timestamp(shift_after)
        dpd = rng.integers(1, 360 if shifted else 300, n)
        rows.append(
            pd.DataFrame(
                {
                    "account_id": [f"A{i:05d}" for i in ids],
                    "as_of": month,
                    "dpd": dpd,
                    "status": np.where(dpd >= 180, "charged_off", "open"),
                    "kept_promises": rng.poisson(0.8, n),
                    "days_since_payment": rng.integers(0, 200, n).astype(float),
                    "balance": rng.gamma(2.0, 800.0, n),
                    "has_guarantor": rng.uniform(size=n) < 0.3,
                    "product": rng.choice(["consumer_installment", "small_business"], n),
                    "gender": rng.choice(["f", "m"], n),
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    frame.loc[rng.uniform(size=len(frame)) < 0.05, "days_since_payment"] = np.nan
    stage_intercept = np.select(
        [frame["status"] == "charged_off", frame["dpd"] > 90], [-2.5, -1.0], 0.3
    )
    logit = (
        stage_intercept
        - 0.012 * frame["dpd"]
        + 0.6 * frame["kept_promises"]
        + 1.0 * (frame["days_since_payment"] < 30)
        + 0.5 * frame["has_guarantor"]
        + 0.4 * (frame["product"] == "small_business")
    )
    frame["p_pay_true"] = 1 / (1 + np.exp(-logit))
    frame["p_pay"] = (rng.uniform(size=len(frame)) < frame["p_pay_true"]).astype(float)
    # amount given payment: mean 0.1 * balance (+50 with a guarantor), gamma noise
    frame["amount_mean_true"] = 0.1 * frame["balance"] + 50 * frame["has_guarantor"]
    noise = rng.gamma(4.0, 0.25, len(frame))  # mean 1
    frame["amount_collected"] = np.where(
        frame["p_pay"] == 1, frame["amount_mean_true"] * noise, 0.0
    )
    return frame


TEST_START = MONTHS[14]  # four test months


def fast_lightgbm(task: str = "binary"):
    """The default LightGBM with a larger learning rate (fewer trees, faster tests)."""
    return default_estimator(task).set_params(learning_rate=0.1, n_estimators=400)


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return synthetic_frame()


@pytest.fixture(scope="module")
def split(data):
    return out_of_time_split(data, TEST_START, horizon_days=30)


@pytest.fixture(scope="module")
def lgbm_scorer(split) -> Scorer:
    train, _ = split
    return Scorer(target="p_pay", random_state=0).fit(train, train["p_pay"])


# ----------------------------------------------------------------------- split
def test_out_of_time_split_leaves_one_horizon_gap():
    as_of = pd.Series(MONTHS.repeat(3))
    for horizon in (30, 60):
        train, test = out_of_time_masks(as_of, MONTHS[10], horizon_days=horizon)
        last_train = as_of[train].max()
        assert last_train + pd.Timedelta(days=horizon) <= as_of[test].min()
        # the next month end after the last training date would break the gap
        following = MONTHS[MONTHS > last_train][0]
        assert following + pd.Timedelta(days=horizon) > MONTHS[10]
        assert not (train & test).any()
    # 60 days: Aug 31 + 60 = Oct 30 <= Nov 30, Sep 30 + 60 = Nov 29 <= Nov 30 -> both train
    train, _ = out_of_time_masks(as_of, "2022-11-30", 60)
    assert as_of[train].max() == pd.Timestamp("2022-09-30")


def test_validation_slice_sits_inside_training_window_after_a_gap():
    as_of = pd.Series(MONTHS.repeat(2))
    fit, valid = validation_masks(as_of, 0.2, horizon_days=60)
    n_valid_dates = round(len(MONTHS) * 0.2)  # 18 * 0.2 = 3.6 -> 4 dates
    assert as_of[valid].nunique() == n_valid_dates
    assert as_of[fit].max() + pd.Timedelta(days=60) <= as_of[valid].min()
    with pytest.raises(DataError):
        validation_masks(pd.Series(MONTHS[:1]), 0.5, 30)


# ------------------------------------------------------------------ evaluation
def _slow_auc(y, p):
    pos, neg = p[y == 1], p[y == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return wins / (len(pos) * len(neg))


def _slow_ks(y, p):
    best = 0.0
    for t in np.unique(p):
        tpr = (p[y == 1] >= t).mean()
        fpr = (p[y == 0] >= t).mean()
        best = max(best, abs(tpr - fpr))
    return best


def test_metrics_match_slow_reference_implementations():
    rng = np.random.default_rng(3)
    p = np.round(rng.uniform(size=300), 2)  # rounding makes ties
    y = (rng.uniform(size=300) < p).astype(float)
    assert auc(y, p) == pytest.approx(_slow_auc(y, p))
    assert ks_statistic(y, p) == pytest.approx(_slow_ks(y, p))
    # ECE by hand: 10 bins of 30 rows each after sorting by p
    order = np.argsort(p, kind="mergesort")
    gaps = [
        abs(y[order][i : i + 30].mean() - p[order][i : i + 30].mean()) for i in range(0, 300, 30)
    ]
    assert expected_calibration_error(y, p) == pytest.approx(np.mean(gaps))
    table = calibration_table(y, p)
    assert table["n"].sum() == 300
    lift = lift_table(y, p)
    assert lift["capture"].iloc[-1] == pytest.approx(1.0)
    assert (lift["n"] * lift["rate"]).sum() == pytest.approx(y.sum())
    assert lift["rate"].iloc[0] >= lift["rate"].iloc[-1]


def test_classification_metrics_oracle_and_truth_error():
    y = np.array([0, 1, 1, 0, 1])
    p = np.array([0.2, 0.6, 0.7, 0.5, 0.4])
    truth = np.array([0.1, 0.8, 0.9, 0.3, 0.6])
    m = classification_metrics(y, p, truth)
    # |0.2-0.1| + |0.6-0.8| + |0.7-0.9| + |0.5-0.3| + |0.4-0.6| = 0.9 -> mean 0.18
    assert m["mae_true"] == pytest.approx(0.18)
    assert m["oracle_auc"] == 1.0
    assert m["auc_gap"] == pytest.approx(1.0 - m["auc"])
    # Brier by hand: (0.04 + 0.16 + 0.09 + 0.25 + 0.36) / 5 = 0.18
    assert m["brier"] == pytest.approx(0.18)


# ---------------------------------------------------------------------- scorer
def test_lightgbm_scorer_recovers_true_probabilities_out_of_time(split, lgbm_scorer):
    _, test = split
    p = lgbm_scorer.predict(test)
    assert ((p >= 0) & (p <= 1)).all()
    m = classification_metrics(test["p_pay"], p, test["p_pay_true"])
    # ~2,000 test rows, ~6,000 fitting rows: loose honest bounds
    assert m["mae_true"] < 0.05
    assert m["ece"] < 0.05
    assert m["auc"] > 0.75
    assert m["auc_gap"] < 0.03
    assert lgbm_scorer.summary.loc[0, "best_iteration"] > 0


def test_lightgbm_beats_logistic_baseline_on_nonlinear_truth(split, lgbm_scorer):
    train, test = split
    logistic = Scorer(LogisticRegression(C=1.0, max_iter=2000)).fit(train, train["p_pay"])
    auc_lgbm = auc(test["p_pay"], lgbm_scorer.predict(test))
    auc_logit = auc(test["p_pay"], logistic.predict(test))
    assert auc_lgbm >= auc_logit - 0.005
    assert np.mean(np.abs(logistic.predict(test) - test["p_pay_true"])) < 0.08


def test_training_is_deterministic(split, lgbm_scorer):
    train, test = split
    first = Scorer(fast_lightgbm(), random_state=0).fit(train, train["p_pay"])
    again = Scorer(fast_lightgbm(), random_state=0).fit(train, train["p_pay"])
    assert np.array_equal(again.predict(test), first.predict(test))
    assert again.fingerprint_ == lgbm_scorer.fingerprint_


def test_separate_stage_models(split):
    train, test = split
    scorer = Scorer(fast_lightgbm(), stage_strategy="separate", min_segment_rows=300).fit(
        train, train["p_pay"]
    )
    assert set(scorer.segments_) == {"early", "late", "charged_off"}
    assert "stage" not in scorer.feature_names_in_
    scored = test.assign(score=scorer.predict(test), stage=assign_stage(test))
    report = evaluation_report(scored, "p_pay", "score", truth="p_pay_true", by=["stage"])
    assert set(report["value"]) == {"all", "early", "late", "charged_off"}
    assert report.loc[0, "n"] == len(test)
    assert report.loc[0, "mae_true"] < 0.06


def test_protected_attributes_are_never_features(split, lgbm_scorer):
    train, _ = split
    assert "gender" not in lgbm_scorer.feature_names_in_
    with pytest.raises(ConfigError, match="protected"):
        Scorer(features=["dpd", "gender"]).fit(train, train["p_pay"])


def test_censored_labels_are_dropped_and_binary_labels_checked(split):
    train, _ = split
    y = train["p_pay"].copy()
    y.iloc[:100] = np.nan
    scorer = Scorer(LogisticRegression(max_iter=1000)).fit(train, y)
    assert scorer.row_counts_["dropped_unlabelled"] == 100
    with pytest.raises(DataError, match="0/1"):
        Scorer(LogisticRegression()).fit(train, train["p_pay"] * 2)


def test_calibration_is_applied_when_it_helps():
    rng = np.random.default_rng(5)
    p = rng.uniform(0.02, 0.98, 6000)
    y = (rng.uniform(size=6000) < p**2).astype(float)  # raw p too high
    calibrator, scores = choose_calibration(p, y, groups=np.arange(6000) // 3)
    assert calibrator.method in ("isotonic", "platt")
    assert expected_calibration_error(y, calibrator.transform(p)) < expected_calibration_error(y, p)
    # already calibrated: left alone
    y_ok = (rng.uniform(size=6000) < p).astype(float)
    calibrator_ok, _ = choose_calibration(p, y_ok)
    assert calibrator_ok.method == "none"
    # the map survives JSON round trip exactly
    again = Calibrator.from_dict(calibrator.to_dict())
    assert np.array_equal(again.transform(p), calibrator.transform(p))


def test_amount_model_fits_positive_amounts_only(split):
    train, test = split
    amount = Scorer(fast_lightgbm("regression"), target="amount").fit(
        train, train["amount_collected"]
    )
    assert amount.row_counts_["labelled"] == int((train["amount_collected"] > 0).sum())
    pred = amount.predict(test)
    assert (pred >= 0).all()
    relative = np.mean(np.abs(pred - test["amount_mean_true"])) / test["amount_mean_true"].mean()
    assert relative < 0.25
    linear = Scorer(Ridge(alpha=1.0), target="amount").fit(train, train["amount_collected"])
    assert linear.predict(test).shape == (len(test),)


# ------------------------------------------------------------------ persistence
def test_save_load_score_identical_and_card_contents(tmp_path, split, lgbm_scorer):
    _, test = split
    lgbm_scorer.save(tmp_path / "p_pay", metrics={"test": {"auc": 0.8}})
    loaded = load_model(tmp_path / "p_pay")
    assert np.array_equal(loaded.predict(test), lgbm_scorer.predict(test))
    assert np.allclose(loaded.contributions(test), lgbm_scorer.contributions(test))
    card = loaded.card_
    assert card["target"] == "p_pay" and card["horizon_days"] == 30
    assert {f["name"] for f in card["features"]} >= {"dpd", "kept_promises", "stage"}
    assert card["training_window"]["last_as_of"] < str(TEST_START.date())
    assert card["row_counts"]["labelled"] > 0
    assert card["metrics"]["test"]["auc"] == 0.8
    assert {"lightgbm", "numpy", "pandas"} <= set(card["package_versions"])
    assert (tmp_path / "p_pay" / "model_all.txt").read_text().startswith("tree")
    # saving the same model twice writes the same bytes (deterministic card)
    lgbm_scorer.save(tmp_path / "once")
    lgbm_scorer.save(tmp_path / "twice")
    for name in ("card.json", "model_all.txt"):
        assert (tmp_path / "once" / name).read_bytes() == (tmp_path / "twice" / name).read_bytes()


def test_linear_and_separate_models_round_trip(tmp_path, split):
    train, test = split
    logistic = Scorer(
        LogisticRegression(max_iter=1000), stage_strategy="separate", min_segment_rows=300
    ).fit(train, train["p_pay"])
    logistic.save(tmp_path / "logit")
    loaded = load_model(tmp_path / "logit")
    assert np.array_equal(loaded.predict(test), logistic.predict(test))
    assert sorted(p.name for p in (tmp_path / "logit").iterdir()) == [
        "card.json",
        "model_charged_off.json",
        "model_early.json",
        "model_late.json",
    ]


def test_card_mismatch_fails_clearly(tmp_path, split, lgbm_scorer):
    _, test = split
    lgbm_scorer.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    with pytest.raises(ModelCardError, match=r"missing feature\(s\) \['kept_promises'\]"):
        loaded.predict(test.drop(columns="kept_promises"))
    with pytest.raises(ModelCardError, match="'dpd' was numeric"):
        loaded.predict(test.assign(dpd=test["dpd"].astype(str)))
    with pytest.raises(ModelCardError, match="30-day horizon"):
        load_model(tmp_path / "m", config=Config.from_dict({"labels": {"p_pay_horizon_days": 45}}))
    model_file = tmp_path / "m" / "model_all.txt"
    model_file.write_text(model_file.read_text().replace("tree", "tree ", 1))
    with pytest.raises(ModelCardError, match="checksum"):
        load_model(tmp_path / "m")
    with pytest.raises(ModelCardError, match="not a model directory"):
        load_model(tmp_path)


def test_no_pickle_or_joblib_in_the_package():
    package = Path(__import__("recovery").__file__).parent
    pattern = re.compile(r"^\s*(import|from)\s+(pickle|joblib|cloudpickle|dill)\b", re.M)
    offenders = [str(p) for p in package.rglob("*.py") if pattern.search(p.read_text("utf-8"))]
    assert offenders == []
    models = package / "models"
    text = "".join(p.read_text("utf-8") for p in models.rglob("*.py"))
    assert "pickle.load" not in text and "joblib.load" not in text


# ---------------------------------------------------------------------- reasons
def test_reason_codes_follow_contributions(split, lgbm_scorer):
    _, test = split
    rows = test.head(200)
    reasons = lgbm_scorer.explain(rows, top=3)
    contrib = lgbm_scorer.contributions(rows).drop(columns="baseline")
    top = contrib.abs().idxmax(axis=1)
    assert (reasons["reason_feature_1"] == top).all()
    sign = np.sign(contrib.to_numpy()[np.arange(len(rows)), contrib.columns.get_indexer(top)])
    raises = reasons["reason_1"].str.endswith("(raises)")
    assert (raises == (sign > 0)).all()
    assert not reasons["reasons"].str.contains("gender").any()
    assert reasons["reasons"].str.count("; ").max() <= 2


def test_forced_protected_attribute_is_never_a_reason(split):
    train, test = split
    scorer = Scorer(
        LogisticRegression(max_iter=1000), features=["dpd", "gender"], allow_protected=True
    ).fit(train, train["p_pay"])
    reasons = scorer.explain(test.head(50), top=3)
    assert not (reasons[["reason_feature_1", "reason_feature_2"]] == "gender").any().any()


# ------------------------------------------------------------------- monitoring
def test_psi_flags_a_shifted_feature_only():
    frame = synthetic_frame(n_accounts=900, seed=2, shift_after=MONTHS[12])
    train = frame[frame["as_of"] < MONTHS[10]]
    scorer = Scorer(LogisticRegression(max_iter=1000)).fit(train, train["p_pay"])
    later = frame[frame["as_of"] >= MONTHS[10]]
    psi = stability_by_month(scorer, later)
    dpd = psi[psi["variable"] == "dpd"].set_index("month")["psi"]
    assert (dpd[dpd.index >= MONTHS[12]] > 0.05).all()
    assert (dpd[dpd.index < MONTHS[12]] < 0.05).all()
    kept = psi[psi["variable"] == "kept_promises"]["psi"]
    assert (kept < 0.05).all()
    # PSI by hand: shares (0.5, 0.5) -> (0.25, 0.75):
    # (0.25-0.5) ln(0.5) + (0.75-0.5) ln(1.5) = 0.1733 + 0.1014
    assert population_stability_index(["a", "a", "b", "b"], ["a", "b", "b", "b"]) == pytest.approx(
        0.25 * np.log(2) + 0.25 * np.log(1.5), abs=1e-3
    )


def test_stability_table_compares_each_stage_with_its_own_reference():
    from recovery.models import score_distribution_by_month, stability_table

    rng = np.random.default_rng(3)
    n = 4000
    ref = pd.DataFrame(
        {
            "stage": np.where(np.arange(n) < 400, "early", "charged_off"),
            "x": rng.normal(size=n),
            "kind": rng.choice(["a", "b"], size=n),
        }
    )
    months = pd.to_datetime(["2025-01-31", "2025-02-28"])
    cur = pd.concat([ref.assign(as_of=m) for m in months], ignore_index=True)
    shifted = (cur["stage"] == "early") & (cur["as_of"] == months[1])
    cur.loc[shifted, "x"] += 1.0  # only the small early stage moves, only in February
    t = stability_table(ref, cur, ["x", "kind"], by="stage").set_index(
        ["group", "month", "variable"]
    )
    assert t.loc[("early", months[1], "x"), "status"] == "shifted"
    assert t.loc[("early", months[0], "x"), "psi"] == pytest.approx(0.0, abs=1e-9)  # same rows
    assert (t.xs("charged_off")["psi"] < 1e-9).all()
    # pooled, the shift is diluted by the large charged-off book: 10 % of the rows
    pooled = stability_table(ref, cur, ["x"]).set_index("month")["psi"]
    assert pooled[months[1]] < t.loc[("early", months[1], "x"), "psi"] / 3
    # PSI of a categorical by hand: reference shares equal the current ones -> 0
    assert t.loc[("early", months[1], "kind"), "psi"] == pytest.approx(0.0, abs=1e-9)
    # sampling noise: 9 used bins (10 deciles) x (1/400 + 1/400) = 0.045
    assert t.loc[("early", months[1], "x"), "psi_noise"] == pytest.approx(9 * 2 / 400)
    dist = score_distribution_by_month(cur, "x", by="stage")
    assert dist["n"].tolist() == [3600, 400, 3600, 400]
    early = dist[dist["stage"] == "early"].set_index("month")
    assert early.loc[months[1], "mean"] == pytest.approx(early.loc[months[0], "mean"] + 1.0)


def test_performance_by_month_skips_immature_labels(split, lgbm_scorer):
    _, test = split
    scored = test.assign(
        score=lgbm_scorer.predict(test), censored=test["as_of"] == test["as_of"].max()
    )
    perf = performance_by_month(scored, "p_pay", "score", truth="p_pay_true")
    assert len(perf) == test["as_of"].nunique()
    assert perf["matured"].iloc[-1] == 0 and np.isnan(perf["auc"].iloc[-1])
    assert (perf["matured_share"].iloc[:-1] == 1).all()


# ----------------------------------------------------------------------- scores
def test_score_table_expected_amount_and_bands(split, lgbm_scorer):
    train, test = split
    amount = Scorer(Ridge(), target="amount").fit(train, train["amount_collected"])
    table = score_table(test, {"p_pay": lgbm_scorer, "amount": amount})
    assert len(table) == len(test)
    assert np.allclose(table["expected_amount"], table["p_pay"] * table["amount_given_payment"])
    assert set(table["p_pay_band"]) <= {"A", "B", "C", "D", "E"}
    assert (table["reasons"] != "").all()
    with pytest.raises(ModelCardError, match="trained for"):
        score_table(test, {"p_cure": lgbm_scorer})
    # a p_cure model knows open accounts only: charged-off rows get no p_cure
    open_rows = train[train["status"] == "open"]
    cure = Scorer(LogisticRegression(max_iter=1000), target="p_cure").fit(
        open_rows, open_rows["p_pay"]
    )
    both = score_table(test, {"p_pay": lgbm_scorer, "p_cure": cure}, top_reasons=0)
    charged = (test["status"] == "charged_off").to_numpy()
    assert both.loc[charged, "p_cure"].isna().all() and both.loc[~charged, "p_cure"].notna().all()
    assert (both.loc[charged, "p_cure_band"] == "").all()
    # band edges: 0.10, 0.20, 0.40, 0.60 (lower edge inclusive)
    assert score_band([0.0999, 0.1, 0.2, 0.6, np.nan]).tolist() == ["E", "D", "C", "A", ""]


def test_plots_return_axes(split, lgbm_scorer):
    import matplotlib

    matplotlib.use("Agg")
    from recovery.models import plot_calibration, plot_importance, plot_lift, plot_roc

    _, test = split
    p = lgbm_scorer.predict(test)
    for ax in (
        plot_roc(test["p_pay"], {"lightgbm": p}, p_true=test["p_pay_true"]),
        plot_calibration(test["p_pay"], p),
        plot_lift(test["p_pay"], p),
        plot_importance(lgbm_scorer.feature_importance()),
    ):
        assert hasattr(ax, "plot")


# --------------------------------------------------------------------- training
def test_train_and_evaluate_out_of_time_with_truth(data):
    from recovery.models.training import train_and_evaluate

    result = train_and_evaluate(
        data, "p_pay", test_months=4, scorer=Scorer(LogisticRegression(max_iter=1000))
    )
    assert result.test_start == MONTHS[-4]
    last_train = pd.Timestamp(result.scorer.training_window_["last_as_of"])
    assert last_train + pd.Timedelta(days=30) <= result.test_start
    assert result.metrics["n"] == int((data["as_of"] >= MONTHS[-4]).sum())
    assert "oracle_auc" in result.metrics and "mae_true" in result.metrics
    assert set(result.report["segment"]) == {"all", "stage"}
    card = result.card_metrics()
    assert card["test_window"]["start"] == str(MONTHS[-4].date())


def test_amount_labels_only_for_payers_and_truth_join(data):
    from recovery.models.training import attach_truth, training_labels

    y = training_labels(data, "amount")
    assert y.notna().sum() == int((data["p_pay"] == 1).sum())
    truth = data[["account_id", "as_of", "p_pay_true"]].rename(columns={"as_of": "month_end"})
    joined = attach_truth(data.drop(columns="p_pay_true"), truth)
    assert np.array_equal(joined["p_pay_true"].to_numpy(), data["p_pay_true"].to_numpy())


def test_recalibration_follows_a_level_shift_and_survives_saving(tmp_path, split, lgbm_scorer):
    """A downturn lowers every logit by 0.8: the static model overshoots, the recalibrated
    copy (offsets fitted on earlier matured rows of the shifted world) does not."""
    _, test = split
    rng = np.random.default_rng(11)
    true_logit = np.log(test["p_pay_true"] / (1 - test["p_pay_true"])) - 0.8
    shifted = test.assign(p_pay_true=1 / (1 + np.exp(-true_logit)))
    shifted["p_pay"] = (rng.uniform(size=len(shifted)) < shifted["p_pay_true"]).astype(float)
    recent = shifted["as_of"] < shifted["as_of"].max()
    last = ~recent
    static = lgbm_scorer.predict(shifted[last])
    updated = lgbm_scorer.recalibrate(shifted[recent], shifted.loc[recent, "p_pay"])
    assert not hasattr(lgbm_scorer, "offsets_") or not lgbm_scorer.offsets_
    assert all(v < 0 for v in updated.offsets_.values())
    err_static = np.mean(np.abs(static - shifted.loc[last, "p_pay_true"]))
    err_updated = np.mean(np.abs(updated.predict(shifted[last]) - shifted.loc[last, "p_pay_true"]))
    assert err_updated < err_static / 2
    updated.save(tmp_path / "recal")
    again = load_model(tmp_path / "recal")
    assert np.array_equal(again.predict(shifted[last]), updated.predict(shifted[last]))


def test_label_truth_and_censoring_columns_are_never_features(split):
    from recovery.timeline.labels import LABEL_COLUMNS as LABELS

    train, _ = split
    extra = train.assign(
        min_payment=1.0,
        p_pay_censored=False,
        p_cure_censored=False,
        censored=False,
        overdue=True,
        p_cure=np.nan,
        roll_back=np.nan,
        p_cure_true=0.5,
        something_true=0.1,
    )
    scorer = Scorer(LogisticRegression(max_iter=500)).fit(extra, extra["p_pay"])
    names = set(scorer.feature_names_in_)
    assert not names & set(LABELS)
    assert not {n for n in names if n.endswith(("_true", "_censored"))}


def test_score_reference_matches_training_scores(split):
    """The score's PSI reference is the uncalibrated training score: the training rows
    themselves, pooled into one month, show no shift even with an isotonic map."""
    train, _ = split
    scorer = Scorer(LogisticRegression(max_iter=1000), calibration="isotonic").fit(
        train, train["p_pay"]
    )
    assert {c.method for c in scorer.calibrators_.values()} == {"isotonic"}
    pooled = train.assign(as_of=train["as_of"].max())
    psi = stability_by_month(scorer, pooled).set_index("variable")["psi"]
    assert psi["score"] < 0.001
    assert psi.drop("score").max() < 0.001
