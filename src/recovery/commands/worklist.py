"""``recovery worklist PATH --model DIR --date D --out FILE``: tomorrow's work, per agent."""

from __future__ import annotations

import click

from recovery.commands.options import (
    config_option,
    model_dirs,
    model_option,
    output_file_option,
    parse_date,
    portfolio_source,
)


@click.command("worklist")
@portfolio_source
@model_option()
@click.option(
    "--date",
    "day",
    required=True,
    help="Working day (YYYY-MM-DD); data up to the day before is used.",
)
@output_file_option("Work list (.csv or .parquet).")
@config_option()
@click.option(
    "--rank-by",
    type=click.Choice(["expected_net_value"]),
    default="expected_net_value",
    show_default=True,
    help="Ranking of each agent's list (expected collection − contact cost).",
)
def command(
    path: str, models: tuple[str, ...], day: str, out: str, config_path: str | None, rank_by: str
) -> None:
    """Score overdue accounts, apply suppressions and the policy table, and write a
    ranked daily list per agent within capacity (config [strategy]): one entry per
    customer, carrying all the customer's overdue accounts."""
    import pandas as pd

    from recovery.config import load_config
    from recovery.data.io import load_portfolio, write_table
    from recovery.errors import DataError, ModelCardError
    from recovery.models.scorer import load_model
    from recovery.models.scores import score_table
    from recovery.operations.strategy import build_worklists, recommend, suppressions
    from recovery.progress import progress_bar
    from recovery.timeline.features import build_features

    date = parse_date(day, "--date").normalize()
    config = load_config(config_path)
    dirs = model_dirs(models)
    with progress_bar(total=4, desc="worklist", unit="steps", leave=False) as bar:
        loaded = {m.target: m for m in (load_model(d, config) for d in dirs)}
        if "p_pay" not in loaded:
            raise ModelCardError("a p_pay model is needed to rank the work list")
        portfolio = load_portfolio(path, config)
        if portfolio.agents is None:
            raise DataError("table 'agents' is needed to build work lists")
        as_of = date - pd.Timedelta(days=1)
        if as_of > portfolio.data_end:
            raise DataError(
                f"--date {date.date()} is more than a day after the data end {portfolio.data_end.date()}"
            )
        bar.update()
        frame = build_features(portfolio, [as_of], config)
        if not len(frame):
            raise DataError(f"no overdue accounts on {as_of.date()}")
        scores = score_table(frame, loaded)
        bar.update()
        state = frame[["account_id", "bucket", "status", "balance"]].merge(scores, on="account_id")
        if "amount_given_payment" not in state:
            state["amount_given_payment"] = frame["amount_overdue"].to_numpy()
        if "p_cure" not in state:
            state["p_cure"] = float("nan")
        guarantor = portfolio.accounts.set_index("account_id").get("has_guarantor")
        if guarantor is not None:
            state["has_guarantor"] = state["account_id"].map(guarantor)
        rec = recommend(state, suppressions(portfolio, date, config), config)
        bar.update()
        owner = None
        if portfolio.assignments is not None:
            spells = portfolio.assignments
            open_on = (spells["start_date"] <= date) & (
                spells["end_date"].isna() | (spells["end_date"] >= date)
            )
            owner = (
                spells[open_on]
                .drop_duplicates("account_id", keep="last")
                .set_index("account_id")["agent_id"]
            )
        lists = build_worklists(
            rec,
            portfolio.agents,
            date,
            config,
            owner=owner,
            value=rank_by,
            accounts=portfolio.accounts,
        )
        write_table(lists, out)
        bar.update()
    suppressed = int((rec["suppressed_by"] != "").sum())
    click.echo(
        f"{len(lists):,} contacts for {lists['agent_id'].nunique():,} agents on {date.date()} "
        f"({len(rec):,} overdue accounts, {suppressed:,} suppressed) → {out}"
    )
