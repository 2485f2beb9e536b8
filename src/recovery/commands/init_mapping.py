"""``recovery init-mapping PATH [--out mapping.yml]``: a starter mapping file to edit."""

from __future__ import annotations

from pathlib import Path

import click

from recovery.commands.options import config_option
from recovery.errors import DataError


@click.command("init-mapping")
@click.argument("path", type=click.Path(file_okay=False, path_type=str))
@click.option(
    "--out",
    "out",
    default="mapping.yml",
    show_default=True,
    type=click.Path(dir_okay=False, path_type=str),
    help="Mapping file to write (.yml).",
)
@click.option("--rows", default=1000, show_default=True, help="Rows sampled from each file.")
@config_option()
@click.option("--force", is_flag=True, help="Overwrite an existing --out file.")
def command(path: str, out: str, rows: int, config_path: str | None, force: bool) -> None:
    """Guess a mapping from a sample of the CSV/Parquet files in PATH.

    Each file is matched to a contract table (or a monthly `performance` table) by
    its columns and name; lender columns are matched to contract columns by name and
    common synonyms, and every distinct code of a coded column (channel, outcome,
    status, reason, product, …) is listed with a guess or null. Edit the file, then
    load with `--mapping` (e.g. `recovery validate PATH --mapping mapping.yml`).
    """
    from recovery.config import load_config
    from recovery.data.starter_mapping import starter_mapping, write_mapping

    target = Path(out)
    if target.suffix.lower() not in (".yml", ".yaml"):
        raise DataError(f"cannot write {out}: use a .yml or .yaml file name")
    if target.exists() and not force:
        raise DataError(f"{out} exists; edit it, choose another --out, or pass --force")
    config = load_config(config_path)
    mapping = starter_mapping(path, rows=rows, config=config)
    write_mapping(mapping, target, config)
    codes = sum(
        list(c.values()).count(None)
        for t in mapping["tables"].values()
        for c in t.get("codes", {}).values()
    )
    unmatched = sum(list(t["columns"].values()).count(None) for t in mapping["tables"].values())
    tables = ", ".join(f"{t['file']} -> {name}" for name, t in mapping["tables"].items())
    click.echo(f"wrote {out}: {tables or 'no tables guessed'}")
    if unmatched:
        click.echo(f"{unmatched} column(s) without a guess (commented out): map them or leave them")
    if codes:
        click.echo(f"{codes} code(s) without a category (null): fill them in before loading")
