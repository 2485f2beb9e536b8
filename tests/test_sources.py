"""SQL sources: the sample book through SQLite and a real PostgreSQL server.

The PostgreSQL fixture starts a throwaway server (``initdb`` + ``pg_ctl``) on a free
localhost port, as the unprivileged ``postgres`` user when the tests run as root (the
server refuses to run as root), and removes it afterwards. It skips, saying why, only
when no server can be started (binaries missing: ``.ci/run`` installs Debian's
``postgresql``).
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import socket
import sqlite3
import subprocess
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from recovery.cli import main
from recovery.config import Config
from recovery.data.io import load_portfolio
from recovery.data.portfolio import Portfolio
from recovery.data.schema import TABLES, coerce_table, validate_portfolio
from recovery.data.sources import PortfolioSource, read_sql_portfolio, write_sql_portfolio
from recovery.data.windows import parse_window, window_frames
from recovery.datasets import load_sample, sample_path
from recovery.errors import ConfigError, DataError

WINDOW = ("2022-01-01", "2022-12-31")
ACCOUNT_TABLES = ("schedule", "payments", "actions", "assignments", "events")


# --------------------------------------------------------------------------- helpers


def key_ordered(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """A table sorted by its contract key (all its contract columns when it has none)."""
    by = list(TABLES[name].key) or [c.name for c in TABLES[name].columns if c.name in frame]
    return frame.sort_values(by, kind="mergesort").reset_index(drop=True)


def assert_same_book(expected: Portfolio, actual: Portfolio) -> None:
    assert actual.table_names() == expected.table_names()
    for name, frame in expected.tables().items():
        pd.testing.assert_frame_equal(
            key_ordered(name, actual.tables()[name]), key_ordered(name, frame), obj=name
        )


def in_window(values: pd.Series, first: str, last: str) -> pd.Series:
    """Whole days first..last inclusive (a timestamp on the last day counts)."""
    stamps = pd.to_datetime(values)
    return (stamps >= pd.Timestamp(first)) & (stamps < pd.Timestamp(last) + pd.Timedelta(days=1))


def vintage_window(book: Portfolio, first: str, last: str) -> Portfolio:
    """Reference: loans originated in the window and every row of theirs, in pandas."""
    accounts = book.accounts[in_window(book.accounts["origination_date"], first, last)]
    tables = {"accounts": accounts, "agents": book.agents}
    for name in ACCOUNT_TABLES:
        frame = book.tables()[name]
        tables[name] = frame[frame["account_id"].isin(accounts["account_id"])]
    return Portfolio(**{n: f.reset_index(drop=True) for n, f in tables.items()}, meta=book.meta)


class CapturedSQL:
    """Every statement and its parameters sent to any database during the block."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def _record(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.calls.append((statement, parameters))

    def __enter__(self) -> CapturedSQL:
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc) -> None:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", self._record)

    def parameter_values(self) -> list[str]:
        values = []
        for _, parameters in self.calls:
            items = parameters.values() if isinstance(parameters, dict) else parameters or ()
            values.extend(str(v) for v in items)
        return values


def tiny_snapshots() -> Portfolio:
    return Portfolio(
        snapshots=pd.DataFrame(
            {
                "account_id": ["A1", "A1", "A2"],
                "month_end": pd.to_datetime(["2024-01-31", "2024-02-29", "2024-02-29"]),
                "dpd": [0, 31, 0],
                "bucket": ["M0", "M1", "M0"],
                "balance": [900.0, 900.0, 500.0],
                "amount_overdue": [0.0, 100.0, 0.0],
                "paid_in_month": [100.0, 0.0, 50.0],
                "status": ["open"] * 3,
            }
        ),
        meta={"data_end": "2024-02-29"},
    )


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def sample() -> Portfolio:
    return load_sample()


@pytest.fixture(scope="module")
def sqlite_url(sample, tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'book.db'}"
    write_sql_portfolio(sample, url, validate=False)  # the sample is valid (tested elsewhere)
    return url


def _postgres_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    versions = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    versions.sort(key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    return versions[-1] if versions else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_server():
    """A throwaway PostgreSQL server: yields (base URL without database, password)."""
    pytest.importorskip("psycopg", reason='psycopg missing: pip install "recovery[postgres]"')
    initdb, pg_ctl = _postgres_binary("initdb"), _postgres_binary("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip(
            "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or under "
            "/usr/lib/postgresql/*/bin: install Debian's postgresql (.ci/run does)"
        )
    as_user: dict = {}
    base = Path(tempfile.mkdtemp(prefix="recovery-pg-"))  # reachable by the server's user
    if os.geteuid() == 0:  # the server refuses to run as root
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(base)
            pytest.skip("running as root and no unprivileged 'postgres' user to run the server")
        as_user = {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}
        os.chown(base, owner.pw_uid, owner.pw_gid)
    password = "pw-" + secrets.token_hex(8)
    (base / "password").write_text(password + "\n")
    if as_user:
        os.chown(base / "password", as_user["user"], as_user["group"])
    port = _free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C"}
    run = {"cwd": base, "env": env, "capture_output": True, "text": True, "timeout": 120}
    data = base / "data"
    try:
        made = subprocess.run(
            [initdb, "-D", str(data), "-U", "recovery", "--auth=scram-sha-256",
             f"--pwfile={base / 'password'}", "-E", "UTF8", "--locale=C", "--no-sync"],
            **run, **as_user,
        )  # fmt: skip
        if made.returncode != 0:
            pytest.skip(f"initdb could not make a PostgreSQL cluster: {made.stderr.strip()[-400:]}")
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
        started = subprocess.run(
            [pg_ctl, "-D", str(data), "-l", str(base / "server.log"), "-w", "-t", "60",
             "-o", options, "start"],
            **run, **as_user,
        )  # fmt: skip
        if started.returncode != 0:
            log = (base / "server.log").read_text() if (base / "server.log").exists() else ""
            pytest.skip(f"the PostgreSQL server did not start: {(started.stderr + log)[-400:]}")
        try:
            yield f"postgresql+psycopg://recovery:{password}@127.0.0.1:{port}", password
        finally:
            subprocess.run([pg_ctl, "-D", str(data), "-m", "immediate", "stop"], **run, **as_user)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _create_database(base_url: str, name: str) -> str:
    import psycopg

    parsed = sa.engine.make_url(base_url + "/postgres")
    with psycopg.connect(
        host=parsed.host,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # a fixed test name, not user input
    return f"{base_url}/{name}"


@pytest.fixture(scope="module")
def postgres_url(postgres_server, sample) -> str:
    url = _create_database(postgres_server[0], "recovery_sample")
    write_sql_portfolio(sample, url, validate=False)  # the sample is valid (tested elsewhere)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def book_url(request) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture(scope="module")
def small(sample) -> Portfolio:
    """The first 60 loans of the sample: enough for the CLI and writing tests."""
    return sample.subset(sample.accounts["account_id"][:60])


@pytest.fixture(scope="module")
def small_sqlite_url(small, tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('small') / 'small.db'}"
    write_sql_portfolio(small, url)
    return url


@pytest.fixture(scope="module")
def small_postgres_url(postgres_server, small) -> str:
    url = _create_database(postgres_server[0], "recovery_small")
    write_sql_portfolio(small, url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def small_url(request) -> str:
    return request.getfixturevalue(f"small_{request.param}_url")


# --------------------------------------------------------------------------- round trips


def test_the_sample_loads_back_equal_to_the_parquet_original(book_url, sample):
    again = load_portfolio(book_url)  # read, typed and validated like a directory
    assert_same_book(sample, again)
    assert again.meta == sample.meta


def test_a_chunked_read_equals_an_unchunked_one(small_url):
    whole = read_sql_portfolio(small_url, progress=False)
    chunked = read_sql_portfolio(small_url, chunksize=100, progress=False)
    assert whole.table_names() == chunked.table_names()
    assert len(chunked.payments) > 5 * 100  # the table really came in several chunks
    for name in ("payments", "actions", "agents"):  # typed by the contract, as loading does
        pd.testing.assert_frame_equal(
            coerce_table(name, chunked.tables()[name]), coerce_table(name, whole.tables()[name])
        )


def test_a_window_returns_the_loans_originated_in_it_and_all_their_rows(book_url, sample):
    with CapturedSQL() as sql:
        book = load_portfolio(book_url, window=f"{WINDOW[0]}:{WINDOW[1]}")
    expected = vintage_window(sample, *WINDOW)
    assert 0 < len(book.accounts) < len(sample.accounts)
    assert_same_book(expected, book)
    # the window travelled as bound parameters, never inside the SQL text
    statements = " ".join(statement for statement, _ in sql.calls)
    assert "2022" not in statements and "2023" not in statements
    values = sql.parameter_values()
    assert any(v.startswith("2022-01-01") for v in values)
    assert any(v.startswith("2023-01-01") for v in values)  # last day + 1, exclusive


def test_a_directory_window_keeps_the_same_rows_as_the_sql_push_down(sqlite_url):
    from_sql = load_portfolio(sqlite_url, window=WINDOW)
    from_files = load_portfolio(sample_path(), window=WINDOW)
    assert_same_book(from_files, from_sql)


def test_a_mapping_date_column_filters_that_table_by_its_own_dates(small_url, small):
    mapping = {"tables": {"payments": {"date_column": "payment_date"}}}
    raw = read_sql_portfolio(small_url, mapping=mapping, window=("2023-03-01", "2023-06-30"))
    typed = Portfolio(payments=raw.payments)
    validate_portfolio(typed)
    expected = small.payments[in_window(small.payments["payment_date"], "2023-03-01", "2023-06-30")]
    assert 0 < len(expected) < len(small.payments)
    pd.testing.assert_frame_equal(
        key_ordered("payments", typed.payments), key_ordered("payments", expected)
    )


def test_a_query_with_bound_params_reads_what_pandas_selects(small_url, small):
    query = "SELECT * FROM payments WHERE channel = :channel AND payment_date >= :start"
    mapping = {"tables": {"payments": {"query": query, "params": {"channel": "cash"}}}}
    with CapturedSQL() as sql:
        raw = read_sql_portfolio(small_url, mapping=mapping, window=("2022-01-01", None))
    typed = Portfolio(payments=raw.payments)
    validate_portfolio(typed)
    pay = small.payments
    # the query's own :start bound plus the window's vintage rule on its loans
    vintage = small.accounts.loc[small.accounts["origination_date"] >= "2022-01-01", "account_id"]
    keep = (pay["channel"] == "cash") & (pay["payment_date"] >= "2022-01-01")
    expected = pay[keep & pay["account_id"].isin(vintage)]
    assert len(expected) > 0
    pd.testing.assert_frame_equal(
        key_ordered("payments", typed.payments), key_ordered("payments", expected)
    )
    assert not any("cash" in statement for statement, _ in sql.calls)
    assert "cash" in sql.parameter_values()


# --------------------------------------------------------------------------- safety


def test_an_injection_looking_table_name_is_not_run_as_sql(small_url, small):
    hostile = 'accounts"; DROP TABLE payments; --'
    with pytest.raises((DataError, ConfigError), match="no table"):
        read_sql_portfolio(small_url, mapping={"tables": {"accounts": {"table": hostile}}})
    again = read_sql_portfolio(small_url, progress=False)
    assert len(again.payments) == len(small.payments)  # still there


def test_a_table_with_a_hostile_name_is_read_safely_quoted(tmp_path):
    url = f"sqlite:///{tmp_path / 'odd.db'}"
    write_sql_portfolio(tiny_snapshots(), url)
    hostile = 'monthly"; DROP TABLE portfolio_meta; --'
    with sqlite3.connect(tmp_path / "odd.db") as conn:  # the test names it, quoted by hand
        conn.execute('ALTER TABLE snapshots RENAME TO "monthly""; DROP TABLE portfolio_meta; --"')
    book = load_portfolio(url, mapping={"tables": {"snapshots": {"table": hostile}}})
    assert book.snapshots["dpd"].tolist() == [0, 31, 0]
    assert book.meta == {"data_end": "2024-02-29"}  # portfolio_meta was not dropped


def test_a_password_never_appears_in_errors(postgres_server, small_postgres_url, capsys):
    base, password = postgres_server
    postgres_url = small_postgres_url
    wrong = postgres_url.replace(password, "pw-wrong-7f3a9")
    with pytest.raises(DataError, match="cannot connect") as caught:
        read_sql_portfolio(wrong)
    assert "pw-wrong-7f3a9" not in str(caught.value) and "***" in str(caught.value)
    missing_db = postgres_url.rsplit("/", 1)[0] + "/no_such_db"
    with pytest.raises(DataError, match="no_such_db") as caught:
        read_sql_portfolio(missing_db)
    assert password not in str(caught.value)
    assert main(["validate", wrong]) == 1
    assert main(["validate", "--source", postgres_url]) == 0
    out = capsys.readouterr()
    assert "pw-wrong-7f3a9" not in out.out + out.err and password not in out.out + out.err


def test_an_unreachable_server_is_a_clear_error_without_the_password():
    url = f"postgresql://ana:pw-unseen-42@127.0.0.1:{_free_port()}/loans"
    with pytest.raises(DataError, match=r"cannot connect to postgresql\+psycopg://ana:\*\*\*@"):
        read_sql_portfolio(url)
    assert "pw-unseen-42" not in str(PortfolioSource(url))
    in_query = f"postgresql://127.0.0.1:{_free_port()}/loans?user=ana&password=pw-unseen-43"
    with pytest.raises(DataError, match="cannot connect") as caught:
        read_sql_portfolio(in_query)
    assert "pw-unseen-43" not in str(caught.value)


def test_a_missing_driver_says_what_to_install():
    with pytest.raises(DataError, match=r'pip install "recovery\[postgres\]"') as caught:
        read_sql_portfolio("postgresql+psycopg2://ana:pw-x9@localhost/loans")
    assert "pw-x9" not in str(caught.value)
    with pytest.raises(DataError, match="unknown database type 'nosuchdb'"):
        read_sql_portfolio("nosuchdb://localhost/loans")


def test_a_missing_sqlite_file_is_reported_and_not_created(tmp_path):
    target = tmp_path / "absent.db"
    with pytest.raises(DataError, match="does not exist"):
        read_sql_portfolio(f"sqlite:///{target}")
    assert not target.exists()


def test_missing_tables_are_named(tmp_path, sqlite_url):
    url = f"sqlite:///{tmp_path / 'other.db'}"
    with sqlite3.connect(tmp_path / "other.db") as conn:
        conn.execute("CREATE TABLE loan_master (loan_no TEXT)")
    with pytest.raises(DataError, match="no tables of the data contract.*loan_master"):
        read_sql_portfolio(url)
    with pytest.raises(DataError, match="has no table 'cms_contacts'"):
        read_sql_portfolio(sqlite_url, mapping={"tables": {"actions": {"table": "cms_contacts"}}})


# --------------------------------------------------------------------------- writing


def test_writing_over_a_book_needs_replace_and_a_failed_write_changes_nothing(
    small_url, small, monkeypatch
):
    with pytest.raises(DataError, match="already holds"):
        write_sql_portfolio(small, small_url)
    before = {n: len(f) for n, f in read_sql_portfolio(small_url, progress=False).tables().items()}
    real_to_sql = pd.DataFrame.to_sql
    written = []

    def fail_on_the_third_table(self, name, *args, **kwargs):
        written.append(name)
        if len(written) == 3:
            raise RuntimeError("disk full")
        return real_to_sql(self, name, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_sql", fail_on_the_third_table)
    with pytest.raises(RuntimeError, match="disk full"):
        write_sql_portfolio(small.subset(small.accounts["account_id"][:10]), small_url, "replace")
    monkeypatch.undo()
    after = {n: len(f) for n, f in read_sql_portfolio(small_url, progress=False).tables().items()}
    assert after == before  # the dropped and rewritten tables came back: one transaction


def test_replace_drops_tables_the_new_book_lacks(tmp_path, small):
    url = f"sqlite:///{tmp_path / 'book.db'}"
    write_sql_portfolio(small, url)
    write_sql_portfolio(tiny_snapshots(), url, if_exists="replace")
    again = read_sql_portfolio(url, progress=False)
    assert again.table_names() == ["snapshots"]
    assert again.meta == {"data_end": "2024-02-29"}


def test_an_invalid_book_is_not_written(tmp_path):
    broken = tiny_snapshots()
    broken.snapshots.loc[0, "dpd"] = -3
    with pytest.raises(Exception, match="dpd"):
        write_sql_portfolio(broken, f"sqlite:///{tmp_path / 'b.db'}")
    assert (
        not (tmp_path / "b.db").exists()
        or not sa.inspect(sa.create_engine(f"sqlite:///{tmp_path / 'b.db'}")).get_table_names()
    )


# --------------------------------------------------------------------------- mapping, CLI


def test_a_lender_performance_table_loads_as_snapshots(tmp_path):
    path = tmp_path / "warehouse.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE perf (loan TEXT, mth TEXT, mob INTEGER, bal REAL, paid REAL)")
        conn.executemany(
            "INSERT INTO perf VALUES (?, ?, ?, ?, ?)",
            [("L1", "2024-01-31", 0, 100.0, 10.0), ("L1", "2024-02-29", 1, 100.0, 0.0),
             ("L2", "2023-12-31", 0, 50.0, 5.0)],
        )  # fmt: skip
    mapping = {
        "tables": {
            "performance": {
                "table": "perf",
                "columns": {"loan": "account_id", "mth": "month_end", "mob": "status_code",
                            "bal": "balance", "paid": "paid_amount"},
                "status_encoding": "months_behind",
            }
        }
    }  # fmt: skip
    book = load_portfolio(f"sqlite:///{path}", mapping=mapping, window="2024-01-01:")
    assert book.snapshots["account_id"].tolist() == ["L1", "L1"]  # December 2023 left out
    assert book.snapshots["month_end"].dt.month.tolist() == [1, 2]


def test_cli_validate_reads_a_database_and_reports_a_broken_one(small_sqlite_url, tmp_path, capsys):
    assert main(["validate", small_sqlite_url]) == 0
    assert "OK sqlite:///" in capsys.readouterr().out
    broken = tmp_path / "broken.db"
    shutil.copy(sa.engine.make_url(small_sqlite_url).database, broken)
    with sqlite3.connect(broken) as conn:
        conn.execute("UPDATE payments SET amount = -5 WHERE rowid <= 3")
    assert main(["validate", f"sqlite:///{broken}"]) == 1
    err = capsys.readouterr().err
    assert "INVALID" in err and "table 'payments', column 'amount'" in err and "3 row(s)" in err


def test_every_reading_command_offers_source_mapping_and_window(capsys):
    for name in ("validate", "snapshots", "features", "train", "score", "worklist", "analyze",
                 "report"):  # fmt: skip
        with pytest.raises(SystemExit):
            from recovery.cli import cli

            cli.main([name, "--help"], prog_name="recovery")
        text = capsys.readouterr().out
        assert "--source URL" in text and "--mapping" in text and "--window START:END" in text


def test_cli_window_on_a_database(sqlite_url, sample, capsys):
    assert main(["validate", "--source", sqlite_url, "--window", "2022-01-01:2022-12-31"]) == 0
    n = int(in_window(sample.accounts["origination_date"], *WINDOW).sum())
    assert 0 < n < len(sample.accounts)
    assert f"accounts {n:,} rows" in capsys.readouterr().out


def test_report_source_becomes_a_directory(small_sqlite_url, small):
    from recovery.commands.options import portfolio_directory

    with portfolio_directory(PortfolioSource(small_sqlite_url), Config()) as directory:
        assert directory.name == "small"
        assert_same_book(small, load_portfolio(directory))
    assert not directory.exists()


def test_windows_are_read_from_text_tuples_and_dicts():
    assert parse_window("2020-01-01:2020-12-31") == parse_window(
        {"start": "2020-01-01", "end": "2020-12-31"}
    )
    assert parse_window(":2020-12-31") == (None, pd.Timestamp("2020-12-31"))
    with pytest.raises(DataError, match="before start"):
        parse_window("2021-01-01:2020-01-01")
    frames = {"snapshots": tiny_snapshots().snapshots}
    assert len(window_frames(frames, "2024-02-01:2024-02-29")["snapshots"]) == 2


def test_a_window_over_mapped_queries_keeps_the_same_loans(small_url, small):
    queries = {
        "accounts": {"query": "SELECT * FROM accounts"},
        "payments": {
            "query": "SELECT * FROM payments WHERE amount > :least",
            "params": {"least": 0},
        },
    }
    book = load_portfolio(small_url, mapping={"tables": queries}, window=WINDOW)
    assert 0 < len(book.accounts) < len(small.accounts)
    assert_same_book(vintage_window(small, *WINDOW), book)


def test_a_postgres_schema_holds_the_book(small_postgres_url, small):
    engine = sa.create_engine(small_postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS collections")
    engine.dispose()
    write_sql_portfolio(small, small_postgres_url, schema="collections", if_exists="replace")
    raw = read_sql_portfolio(small_postgres_url, schema="collections", progress=False)
    validate_portfolio(raw)  # types the raw tables in place
    assert_same_book(small, raw)
    named = {"tables": {"payments": {"table": "collections.payments"}}}  # schema.table
    mapped = read_sql_portfolio(small_postgres_url, mapping=named, progress=False)
    assert len(mapped.payments) == len(small.payments)


def test_cli_validates_a_lender_database_through_a_mapping(small, tmp_path, capsys):
    import yaml

    path = tmp_path / "cms.db"
    write_sql_portfolio(
        Portfolio(**{**small.tables(), "actions": None}, meta=small.meta), f"sqlite:///{path}"
    )
    channels = sorted(small.actions["channel"].unique())
    codes = {f"C{i}": channel for i, channel in enumerate(channels)}  # lender code -> contract
    lender = small.actions.rename(columns={"account_id": "loan_no", "channel": "act_type"})
    lender["act_type"] = lender["act_type"].map({v: k for k, v in codes.items()})
    with sqlite3.connect(path) as conn:
        lender.to_sql("cms_contacts", conn, index=False)
    table = {"table": "cms_contacts", "columns": {"loan_no": "account_id", "act_type": "channel"}}
    mapping = tmp_path / "mapping.yml"
    mapping.write_text(
        yaml.safe_dump({"tables": {"actions": {**table, "codes": {"channel": codes}}}})
    )
    assert main(["validate", f"sqlite:///{path}", "--mapping", str(mapping)]) == 0
    assert f"actions {len(small.actions):,} rows" in capsys.readouterr().out
    missing = dict(list(codes.items())[1:])  # the first lender code left unmapped
    mapping.write_text(
        yaml.safe_dump({"tables": {"actions": {**table, "codes": {"channel": missing}}}})
    )
    assert main(["validate", "--source", f"sqlite:///{path}", "--mapping", str(mapping)]) == 1
    err = capsys.readouterr().err
    assert "'C0'" in err and "column 'channel'" in err


def test_a_query_without_a_window_streams_with_progress(small_sqlite_url, small):
    mapping = {"tables": {"agents": {"query": "SELECT * FROM agents WHERE level >= :lowest",
                                     "params": {"lowest": 2}}}}  # fmt: skip
    raw = read_sql_portfolio(small_sqlite_url, mapping=mapping, progress=True)
    assert sorted(raw.agents["agent_id"]) == sorted(
        small.agents.loc[small.agents["level"] >= 2, "agent_id"]
    )


def test_cli_snapshots_from_a_database_with_a_window(small_sqlite_url, small, tmp_path):
    out = tmp_path / "snapshots.parquet"
    args = ["snapshots", "--source", small_sqlite_url, "--window", "2020-01-01:2021-12-31"]
    assert main([*args, "--out", str(out)]) == 0
    loans = set(pd.read_parquet(out)["account_id"])
    vintage = in_window(small.accounts["origination_date"], "2020-01-01", "2021-12-31")
    assert loans and loans <= set(small.accounts.loc[vintage, "account_id"])
