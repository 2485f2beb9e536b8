"""The typed configuration: defaults match DESIGN.md, files load and are validated."""

from __future__ import annotations

import pytest

from recovery.config import Config, load_config
from recovery.errors import ConfigError


def test_defaults_match_design():
    cfg = Config()
    assert cfg.aging.charge_off_dpd == 180
    # M0 current, M1 1–30, M2 31–60, M3 61–90, M4 91–120, M5 121–150, M6 151–180, M7+ >180
    dpd = [0, 1, 30, 31, 60, 61, 90, 91, 120, 121, 150, 151, 180, 181]
    expected = ["M0", "M1", "M1", "M2", "M2", "M3", "M3", "M4", "M4", "M5", "M5", "M6", "M6", "M7+"]
    assert list(cfg.aging.bucket_of(dpd)) == expected
    assert cfg.labels.p_pay_horizon_days == 30
    assert cfg.labels.p_cure_horizon_days == 60
    assert cfg.analytics.recovery_horizon_months == 12
    assert cfg.analytics.erc_horizon_months == 84
    assert cfg.analytics.age_split_months == 24
    assert cfg.analytics.agent_window_days == 60
    assert (cfg.compliance.contact_hour_start, cfg.compliance.contact_hour_end) == (8, 21)
    assert cfg.compliance.limitation_years == 3


def test_toml_and_yaml_load(tmp_path):
    toml = tmp_path / "c.toml"
    toml.write_text("[aging]\ncharge_off_dpd = 150\ntolerance = 5\n[costs.per_action]\nsms = 0.1\n")
    cfg = load_config(toml)
    assert cfg.aging.charge_off_dpd == 150 and cfg.aging.tolerance == 5.0
    assert cfg.costs.per_action["sms"] == 0.1 and cfg.costs.per_action["call"] == 1.0
    yml = tmp_path / "c.yaml"
    yml.write_text("labels:\n  p_pay_horizon_days: 45\n")
    assert load_config(yml).labels.p_pay_horizon_days == 45
    assert Config.from_dict(cfg.to_dict()) == cfg


@pytest.mark.parametrize(
    "text, message",
    [
        ("[agin]\nx = 1\n", "unknown config section"),
        ("[aging]\ncharge_of_dpd = 1\n", "unknown setting"),
        ("[aging]\ncharge_off_dpd = 'soon'\n", "must be an integer"),
        (
            "[aging]\nbucket_edges = [0, 60, 30]\nbucket_names = ['a','b','c','d']\n",
            "strictly increasing",
        ),
        ("[aging\n", "not valid"),
    ],
)
def test_bad_config_says_what_to_fix(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_product_kinds_and_charge_off_per_kind(tmp_path):
    """Issue 18: a kind per product code; the charge-off threshold per kind (default 180)."""
    cfg = Config()
    assert cfg.aging.charge_off_dpd_for("installment") == 180
    assert cfg.aging.charge_off_dpd_for("revolving") == 180
    assert cfg.categories.kind_of("consumer_installment") == "installment"
    path = tmp_path / "c.toml"
    path.write_text(
        "[aging.charge_off_dpd_by_kind]\ninstallment = 120\n"
        "[categories]\nproducts = ['loan', 'card']\n"
        "[categories.product_kinds]\ncard = 'revolving'\n"
    )
    cfg = load_config(path)
    # regulators' usual rule: 120 days for closed-end installment, 180 for open-end revolving
    assert cfg.aging.charge_off_dpd_for(["installment", "revolving"]).tolist() == [120, 180]
    assert cfg.categories.kind_of(["loan", "card", "other"]).tolist() == [
        "installment",
        "revolving",
        "installment",
    ]
    assert Config.from_dict(cfg.to_dict()) == cfg


def test_amount_ceiling_default_and_override():
    assert Config().data.max_amount == 1e12
    assert Config.from_dict({"data": {"max_amount": 5e13}}).data.max_amount == 5e13


@pytest.mark.parametrize(
    "data, message",
    [
        ({"aging": {"charge_off_dpd_by_kind": {"card": 180}}}, "'card' is not a product kind"),
        ({"aging": {"charge_off_dpd_by_kind": {"revolving": 0}}}, "positive number of days"),
        ({"aging": {"charge_off_dpd_by_kind": {"revolving": 180.5}}}, "must be an integer"),
        ({"categories": {"product_kinds": {"card": "open_end"}}}, "'open_end' is not a product"),
        ({"categories": {"product_kinds": {"card": 1}}}, "must be text"),
        ({"data": {"max_amount": -1.0}}, "positive finite amount"),
        ({"data": {"max_amount": float("inf")}}, "positive finite amount"),
    ],
)
def test_bad_kind_or_ceiling_settings_say_what_to_fix(data, message):
    with pytest.raises(ConfigError, match=message):
        Config.from_dict(data)
