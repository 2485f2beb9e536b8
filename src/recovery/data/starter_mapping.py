"""The starter mapping: a first mapping file guessed from a sample of a lender's files.

``recovery init-mapping PATH`` reads a few rows of each CSV or Parquet file in PATH and
:func:`starter_mapping` guesses which contract table each file is, which lender column
is which contract column (exact and normalised names, then the common synonyms of
:data:`COLUMN_SYNONYMS`) and which lender code is which contract category
(:data:`CODE_SYNONYMS`); :func:`write_mapping` writes the guess as commented YAML, with
``null`` where the user must decide. The file then loads with
:func:`recovery.data.mapping.load_mapping`, which owns the format and its checks.

Examples
--------
>>> frames = {"pay.csv": pd.DataFrame({"loan_no": ["L1"], "txn_date": ["2024-01-05"],
...     "pay_amt": ["10"], "pay_via": ["TRF"]})}
>>> starter_mapping(frames)["tables"]["payments"]["codes"]
{'channel': {'TRF': 'bank_transfer'}}
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import pandas as pd

from recovery.config import Config
from recovery.data.dates import suggest_date_format
from recovery.data.io import atomic_path
from recovery.data.mapped_tables import (
    MAPPING_TABLES,
    allowed_codes,
    coded_columns,
    known_status_codes,
    table_spec,
)
from recovery.data.performance import STATUS_ENCODINGS, code_text
from recovery.errors import DataError

__all__ = [
    "COLUMN_SYNONYMS",
    "CODE_SYNONYMS",
    "StarterMapping",
    "starter_mapping",
    "write_mapping",
]

# fmt: off
#: Common lender names of contract columns (normalised: lower case, ``_`` separated).
COLUMN_SYNONYMS: dict[str, tuple[str, ...]] = {
    "account_id": (
        "loan_id", "loan_no", "loan_number", "loanid", "acct_no", "acct_id", "account_no",
        "account_number", "accountid", "acc_id", "acc_no", "contract_id", "contract_no", "loan",
        "account", "acct",
    ),
    "customer_id": ("cust_id", "cust_no", "customer_no", "client_id", "client_no", "borrower_id"),
    "product": ("product_code", "product_type", "prod", "prod_code", "loan_type", "product_line"),
    "origination_date": (
        "open_date", "open_dt", "opened", "disbursement_date", "disb_date", "disbursed_on",
        "booking_date", "loan_date", "orig_date", "origination_dt",
    ),
    "principal": (
        "loan_amount", "loan_amt", "amount_lent", "disbursed_amount", "principal_amount",
        "original_amount", "orig_amt", "sanctioned_amount",
    ),
    "term_months": ("term", "tenor", "tenure", "loan_term", "term_mths", "n_installments"),
    "interest_rate": ("rate", "int_rate", "apr", "interest", "annual_rate"),
    "region": ("branch", "area", "province", "zone"),
    "installment_no": ("inst_no", "installment_number", "instalment_no", "seq_no", "period_no"),
    "due_date": ("due_dt", "installment_date", "instalment_date", "due"),
    "amount_due": ("due_amount", "amt_due", "emi", "instalment_amount"),
    "payment_date": (
        "pay_date", "paid_date", "txn_date", "posting_date", "post_date", "value_date",
        "trans_date", "transaction_date",
    ),
    "amount": ("pay_amount", "payment_amount", "amt", "txn_amount", "pay_amt"),
    "reversed_date": ("reversal_date", "returned_date", "bounce_date", "reversed_on"),
    "payment_id": ("txn_id", "transaction_id", "pay_id", "receipt_no", "payment_no"),
    "action_id": ("contact_id", "activity_id", "call_id", "act_id", "action_no"),
    "agent_id": ("collector_id", "collector", "officer_id", "user_id", "staff_id", "agent"),
    "ts": (
        "timestamp", "contact_time", "call_time", "action_time", "datetime", "act_ts",
        "contact_ts", "act_time", "contact_date", "action_date",
    ),
    "channel": (
        "act_type", "action_type", "contact_type", "channel_code", "pay_channel",
        "payment_method", "pay_via", "method", "pay_method",
    ),
    "outcome": ("result", "result_code", "disposition", "contact_result", "outcome_code"),
    "promise_amount": ("ptp_amount", "ptp_amt", "promised_amount"),
    "promise_date": ("ptp_date", "promised_date", "ptp_dt"),
    "reason_code": ("reason", "delinquency_reason", "default_reason", "reason_cd"),
    "level": ("seniority", "grade", "agent_level"),
    "hire_date": ("join_date", "joined", "hired"),
    "start_date": ("assign_date", "assigned_date", "from_date", "assigned_on"),
    "end_date": ("unassign_date", "to_date", "released_date", "end_dt"),
    "event": ("event_type", "event_code", "status_change"),
    "date": ("event_date", "event_dt"),
    "month_end": (
        "month", "stmt_month", "statement_month", "report_month", "reporting_month", "as_of",
        "as_of_date", "snapshot_date", "period", "yyyymm", "stmt_date", "mth", "month_id",
    ),
    "dpd": ("days_past_due", "days_overdue", "overdue_days", "dpd_days", "days_late"),
    "status_code": (
        "mob_status", "months_behind", "delinquency_status", "dq_status", "pay_status",
        "payment_status", "cycle", "cycles_delinquent", "dq_bucket", "delinquency_bucket",
        "status_cd",
    ),
    "balance": (
        "bal", "outstanding", "outstanding_balance", "os_balance", "os_bal", "current_balance",
        "principal_outstanding", "balance_amount", "curr_bal",
    ),
    "amount_overdue": (
        "overdue_amount", "overdue_amt", "arrears", "arrears_amount", "past_due_amount",
    ),
    "paid_in_month": ("paid_amount", "amount_paid", "paid", "paid_amt", "collected", "payment"),
    "paid_amount": ("paid_in_month", "amount_paid", "paid", "paid_amt", "collected", "payment"),
    "installment_amount": ("emi", "instalment", "installment", "min_due", "monthly_payment"),
    "status": ("account_status", "acct_status", "loan_status", "acc_status"),
    "bucket": ("aging_bucket", "dq_bucket"),
    "offer_id": ("offer_no", "proposal_id", "arrangement_id", "plan_id", "arrangement_no"),
    "offered_at": ("offer_date", "offered_on", "proposed_on", "offer_dt", "proposal_date"),
    "kind": ("offer_type", "arrangement_type", "plan_type", "offer_kind"),
    "discount_share": ("discount", "discount_rate", "discount_pct", "waiver_share", "haircut"),
    "installments": ("plan_installments", "no_of_installments", "plan_term", "plan_months"),
    "plan_amount": ("agreed_amount", "settlement_amount", "arrangement_amount", "plan_total"),
    "deferral_months": ("deferral_period", "holiday_months", "deferred_months"),
    "outcome_date": ("response_date", "accepted_date", "decision_date", "answer_date"),
    "result_date": ("completion_date", "broken_date", "plan_end_date"),
    "assignment_probability": ("propensity", "assignment_prob", "treatment_probability"),
}

#: Common lender codes of contract categories (normalised: lower case).
CODE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "action_channels": {
        "call": ("tel", "phone", "call", "calls", "outbound_call", "ph"),
        "sms": ("msg", "text", "sms", "message"),
        "letter": ("ltr", "letter", "mail", "post"),
        "visit": ("fv", "field", "field_visit", "visit"),
        "legal_notice": ("legal", "lgl", "lawyer", "legal_letter", "ln"),
        "lawsuit": ("suit", "court", "litigation"),
        "outsource": ("agency", "dca", "outsourced"),
        "guarantor_contact": ("guarantor", "gtr", "gc"),
    },
    "outcomes": {
        "promise_to_pay": ("ptp", "promise", "promised"),
        "no_answer": ("na", "noans", "no_ans", "nr", "no_response", "noanswer"),
        "right_party_contact": ("rpc", "contacted", "contact"),
        "third_party_contact": ("tpc", "third_party"),
        "wrong_number": ("wn", "wrong", "wrong_no"),
        "refusal": ("rtp", "refused", "refuse"),
        "dispute": ("disp", "disputed"),
        "hardship": ("hs", "hardship"),
        "deceased_reported": ("dec", "deceased", "dead"),
        "delivered": ("dlv", "sent", "delivered"),
        "filed": ("filed",),
        "placed": ("placed",),
    },
    "payment_channels": {
        "bank_transfer": ("bt", "trf", "transfer", "bank", "wire", "neft"),
        "auto_debit": ("dd", "ach", "auto", "autodebit", "direct_debit", "nach"),
        "cash": ("csh", "cash", "counter", "branch"),
        "agency": ("agency", "dca"),
        "court": ("court", "legal"),
        "guarantor": ("guarantor", "gtr"),
        "settlement": ("settlement", "sett", "ots"),
    },
    "statuses": {
        "open": ("a", "act", "active", "open", "o", "live"),
        "paid_off": ("pif", "paid", "paid_off", "paidoff", "repaid", "p"),
        "charged_off": ("wo", "co", "write_off", "written_off", "chargeoff", "charged_off"),
        "settled": ("set", "stl", "settled", "settlement"),
        "closed": ("c", "closed", "cl", "cls"),
    },
    "products": {
        "consumer_installment": ("pl", "cl", "consumer", "personal", "personal_loan", "ci"),
        "small_business": ("sb", "sme", "biz", "business", "msme"),
    },
    "offer_kinds": {
        "payment_plan": ("plan", "installment_plan", "instalment_plan", "arrangement", "ip"),
        "settlement": ("ots", "settle", "sif", "settlement_offer", "discount"),
        "deferral": ("defer", "holiday", "payment_holiday", "extension", "deferment"),
    },
    "offer_outcomes": {
        "accepted": ("acc", "yes", "y", "agreed", "accept"),
        "declined": ("rej", "rejected", "no", "n", "refused", "decline"),
        "no_answer": ("na", "noans", "no_response", "unanswered"),
    },
    "offer_results": {
        "completed": ("done", "kept", "complete", "paid", "fulfilled"),
        "broken": ("brk", "defaulted", "failed", "break"),
    },
    "events": {
        "charged_off": ("wo", "co", "write_off", "chargeoff"),
        "restructured": ("rs", "restructure", "resched", "rescheduled"),
        "settled": ("set", "stl", "settlement"),
        "legal_filed": ("legal", "suit_filed", "filed"),
        "deceased": ("dec", "dead"),
        "closed": ("cls", "close"),
    },
}


# fmt: on


def _norm(name: object) -> str:
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name).strip())
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


#: File-name stems that point at a table (normalised).
_TABLE_NAMES = {
    "accounts": ("accounts", "account", "loans", "loan", "loan_master", "accts", "contracts"),
    "schedule": ("schedule", "schedules", "installments", "instalments", "repayment_schedule"),
    "payments": ("payments", "payment", "repayments", "receipts", "transactions", "txn"),
    "actions": ("actions", "contacts", "calls", "collection_log", "activities", "cms_contacts"),
    "agents": ("agents", "collectors", "staff", "users"),
    "assignments": ("assignments", "allocations", "allocation", "queues"),
    "events": ("events", "status_changes", "status_history"),
    "offers": ("offers", "offer", "arrangements", "payment_plans", "plans", "settlements"),
    "snapshots": ("snapshots", "snapshot"),
    "performance": ("performance", "perf", "monthly", "monthly_performance", "mob", "history"),
}


class StarterMapping(dict):
    """A mapping dict (the file format) with comments for :func:`write_mapping`."""

    comments: dict[str, list[str]]


def _read_sample(path: Path, rows: int) -> pd.DataFrame:
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        reader = pq.ParquetFile(path)
        batch = next(reader.iter_batches(batch_size=rows), None)
        return (
            batch.to_pandas()
            if batch is not None
            else reader.schema_arrow.empty_table().to_pandas()
        )
    return pd.read_csv(path, nrows=rows, dtype=str, keep_default_na=False, na_values=[""])


def _looks_like_dates(values: pd.Series) -> bool:
    v = values.dropna()
    if not len(v):
        return False
    if pd.api.types.is_datetime64_any_dtype(v):
        return True
    if pd.api.types.is_numeric_dtype(v):
        return False
    text = v.astype(str).head(200)
    if not text.str.contains(r"\d{4}|\d{1,2}[/.-]\d{1,2}", regex=True).all():
        return False
    parsed = pd.to_datetime(text, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.9)


def _date_formats(
    frame: pd.DataFrame, found: dict[str, str], spec: Any
) -> tuple[dict[str, str], list[tuple[str, str, str | None, str]]]:
    """Date formats the sample proves, and every non-ISO date column with the reason."""
    kinds = {c.name: c.kind for c in spec.columns}
    formats, notes = {}, []
    for lender, target in found.items():
        if kinds.get(target) not in ("date", "datetime"):
            continue
        fmt, why = suggest_date_format(frame[lender])
        if fmt:
            formats[target] = fmt
        if why:
            notes.append((lender, target, fmt, why))
    return formats, notes


def _match_columns(columns: list[str], name: str) -> dict[str, str]:
    """Lender column → contract column of ``name`` by exact, normalised or synonym name."""
    contract = [c.name for c in table_spec(name).columns]
    found: dict[str, str] = {}
    taken: set[str] = set()
    for stage in ("exact", "normalised", "synonym"):
        for col in columns:
            if col in found:
                continue
            n = _norm(col)
            for target in contract:
                if target in taken:
                    continue
                hit = (
                    col == target
                    if stage == "exact"
                    else n == target
                    if stage == "normalised"
                    else n in COLUMN_SYNONYMS.get(target, ())
                )
                if hit:
                    found[col] = target
                    taken.add(target)
                    break
    return found


def _score(columns: list[str], name: str, stem: str) -> float:
    spec = table_spec(name)
    found = set(_match_columns(columns, name).values())
    required = {c.name for c in spec.columns if c.required}
    if name == "performance":
        required |= {"paid_amount"}
        if "dpd" in found or "status_code" in found:
            required |= {"dpd", "status_code"} & found
        else:
            required |= {"status_code"}
        if "paid_in_month" in found:
            found.add("paid_amount")
    score = 2 * len(found & required) + len(found - required) - len(required - found)
    if stem in _TABLE_NAMES.get(name, ()) or any(s in stem for s in _TABLE_NAMES.get(name, ())[:2]):
        score += 3
    return score


def _guess_code(code: str, kind: str, config: Config) -> str | None:
    allowed = allowed_codes(kind, config)
    n = _norm(code)
    if code in allowed:
        return code
    for category in allowed:
        if n == category:
            return category
    field_name = kind[4:] if kind.startswith("cat:") else kind
    for category, words in CODE_SYNONYMS.get(field_name, {}).items():
        if category in allowed and n in words:
            return category
    if kind == "bucket":
        return None
    if len(n) >= 3:
        starts = [c for c in allowed if c.startswith(n)]
        if len(starts) == 1:
            return starts[0]
    near = difflib.get_close_matches(n, list(allowed), n=1, cutoff=0.8)
    return near[0] if near else None


def _guess_encoding(values: pd.Series) -> str:
    text = code_text(values).dropna().astype(str).str.upper()
    if not len(text):
        return "months_behind"
    if text.str.fullmatch(r"M\d+\+?|CURRENT|CHARGED_OFF|WRITE_OFF|PAID_OFF|CO|WO").mean() > 0.8:
        return "bucket_label"
    numbers = pd.to_numeric(text, errors="coerce")
    if numbers.notna().mean() > 0.8 and numbers.max() > 24:
        return "days_past_due"
    return "months_behind"


def starter_mapping(
    source: str | Path | dict[str, pd.DataFrame],
    rows: int = 1000,
    config: Config | None = None,
) -> StarterMapping:
    """Guess a mapping from a sample of a lender's files, for the user to edit.

    Each file (CSV or Parquet; the first ``rows`` rows) is matched to the contract
    table whose columns it matches best (exact, normalised — ``LoanNo`` → ``loan_no`` —
    and common synonyms such as ``loan_id``/``acct_no`` → ``account_id``,
    ``days_past_due`` → ``dpd``, ``bal``/``outstanding`` → ``balance``), helped by the
    file name; a still unmatched date-like column fills a missing date column. Columns
    without a guess map to ``None``; every distinct code of a coded column is listed
    with a guessed category or ``None``. A monthly table without the contract's
    snapshot columns becomes ``performance`` with a guessed ``status_encoding``.

    Parameters
    ----------
    source : str, Path or dict
        A directory of files, or ``{file name: DataFrame}``.
    rows : int
        Rows read from each file.
    config : Config, optional
        Categories and bucket names codes are matched against.

    Returns
    -------
    StarterMapping
        A dict in the mapping-file format (``version``, ``tables``), with
        ``None`` where the user must decide; :func:`write_mapping` writes it.

    Examples
    --------
    >>> frames = {"loans.csv": pd.DataFrame({"LoanNo": ["L1"], "cust_no": ["C1"],
    ...     "prod": ["PL"], "open_dt": ["2024-01-05"], "loan_amt": ["1000"]})}
    >>> m = starter_mapping(frames)
    >>> m["tables"]["accounts"]["columns"]
    {'LoanNo': 'account_id', 'cust_no': 'customer_id', 'prod': 'product', 'open_dt': 'origination_date', 'loan_amt': 'principal'}
    >>> m["tables"]["accounts"]["codes"]
    {'product': {'PL': 'consumer_installment'}}
    """
    config = config or Config()
    if isinstance(source, dict):
        samples = {str(k): v.head(rows) for k, v in source.items()}
    else:
        directory = Path(source)
        if not directory.is_dir():
            raise DataError(f"{directory} is not a directory of CSV or Parquet files")
        files = sorted(
            p
            for p in directory.iterdir()
            if p.is_file() and p.name.lower().endswith((".csv", ".parquet", ".csv.gz"))
        )
        if not files:
            raise DataError(f"no .csv or .parquet files in {directory}")
        samples = {p.name: _read_sample(p, rows) for p in files}
    scored = []
    for file, frame in samples.items():
        stem = _norm(file.split(".")[0])
        cols = [str(c) for c in frame.columns]
        for name in MAPPING_TABLES:
            scored.append((_score(cols, name, stem), file, name))
    scored.sort(key=lambda t: (-t[0], t[1], MAPPING_TABLES.index(t[2])))
    chosen: dict[str, str] = {}
    used_tables: set[str] = set()
    for score, file, name in scored:
        if file in chosen or name in used_tables or score <= 0:
            continue
        if name in ("snapshots", "performance") and used_tables & {"snapshots", "performance"}:
            continue
        chosen[file] = name
        used_tables.add(name)
    tables: dict[str, Any] = {}
    comments: dict[str, list[str]] = {}
    leftovers = [f for f in samples if f not in chosen]
    for file, name in sorted(chosen.items(), key=lambda t: MAPPING_TABLES.index(t[1])):
        frame = samples[file]
        cols = [str(c) for c in frame.columns]
        found = _match_columns(cols, name)
        spec = table_spec(name)
        date_targets = [
            c.name
            for c in spec.columns
            if c.kind in ("date", "datetime") and c.name not in found.values()
        ]
        loose = [c for c in cols if c not in found and _looks_like_dates(frame[c])]
        if (
            len(date_targets) >= 1
            and len(loose) == 1
            and (
                len(date_targets) == 1
                or any(c.required for c in spec.columns if c.name == date_targets[0])
            )
        ):
            found[loose[0]] = date_targets[0]
        columns = {c: found.get(c) for c in cols}
        columns = {c: t for c, t in columns.items() if t is None or t != c}  # same name: no line
        entry: dict[str, Any] = {"file": file, "columns": columns}
        notes = [f"{file}: {len(frame):,} sample rows, {len(found)} of {len(cols)} columns guessed"]
        if name == "performance":
            code_col = next((c for c, t in found.items() if t == "status_code"), None)
            entry["status_encoding"] = (
                _guess_encoding(frame[code_col]) if code_col is not None else "days_past_due"
            )
            notes.append(
                "monthly performance table: loaded as snapshots; check status_encoding "
                f"({', '.join(STATUS_ENCODINGS)})"
            )
        codes: dict[str, dict[str, Any]] = {}
        for lender, target in found.items():
            kind = coded_columns(name).get(target)
            if kind is None:
                continue
            values = code_text(frame[lender]).dropna()
            distinct = pd.unique(values)
            if len(distinct) > 50:
                notes.append(
                    f"{lender}: {len(distinct)} distinct values, too many to list as codes"
                )
                continue
            if kind == "status_code":
                known = known_status_codes(list(distinct), entry["status_encoding"], config)
                unknown = [d for d in distinct if str(d) not in known]
                if unknown:
                    codes[target] = {str(d): None for d in sorted(unknown, key=str)}
                continue
            guesses = {str(d): _guess_code(str(d), kind, config) for d in sorted(distinct, key=str)}
            if any(str(k) != v for k, v in guesses.items()):
                codes[target] = guesses
        if codes:
            entry["codes"] = codes
        formats, undecided = _date_formats(frame, found, spec)
        if formats:
            entry["date_format"] = formats
        notes += [f"{target} ({lender}): {why}" for lender, target, _, why in undecided]
        comments[f"{name}.date_format"] = [target for _, target, fmt, _ in undecided if not fmt]
        tables[name] = entry
        comments[name] = notes
    mapping = StarterMapping(version=1, tables=tables)
    mapping.comments = comments
    if leftovers:
        mapping.comments["_files"] = [f"no table guessed for: {', '.join(leftovers)}"]
    return mapping


def _yaml_scalar(value: Any) -> str:
    import yaml

    if value is None:
        return "null"
    dumped = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()
    return dumped[:-4].rstrip() if dumped.endswith("\n...") else dumped.removesuffix("...").strip()


def write_mapping(mapping: dict[str, Any], path: str | Path, config: Config | None = None) -> Path:
    """Write a mapping dict as commented YAML (atomically).

    ``None`` values are the user's to fill: a column without a guess is written as a
    commented-out line, a code without a category as ``null`` with the allowed
    categories beside it (the file does not load until each is filled in or removed).

    Parameters
    ----------
    mapping : dict
        In the mapping-file format (e.g. from :func:`starter_mapping`).
    path : str or Path
        Output file (``.yml``/``.yaml``).
    config : Config, optional
        Categories listed in the comments.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> m = {"tables": {"payments": {"file": "pay.csv", "columns": {"pay_via": "channel",
    ...     "memo": None}, "codes": {"channel": {"TRF": "bank_transfer", "CHQ": None}}}}}
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     text = write_mapping(m, Path(tmp) / "m.yml").read_text()
    >>> print("\\n".join(text.splitlines()[-9:]))
      payments:
        file: pay.csv
        columns:
          pay_via: channel
          # memo:            # no guess: a column of 'payments', or leave it out
        codes:
          channel:
            TRF: bank_transfer
            CHQ: null        # fill in: bank_transfer, auto_debit, cash, agency, court, guarantor, settlement
    """
    config = config or Config()
    comments = getattr(mapping, "comments", {}) or {}
    lines = [
        "# recovery mapping: a lender's tables, columns and codes -> the recovery data contract",
        '# Format: docs/data.md ("Mapping file"). Check every guess; fill in each null',
        "# (a code without a category stops the load with a message naming it).",
        f"version: {mapping.get('version', 1)}",
    ]
    for note in comments.get("_files", []):
        lines.append(f"# {note}")
    window = mapping.get("window")
    if window:
        lines.append("window:")
        for k in ("start", "end"):
            if window.get(k) is not None:
                lines.append(f"  {k}: {_yaml_scalar(str(pd.Timestamp(window[k]).date()))}")
    else:
        lines.append("# window: {start: 2019-01-01, end: 2024-12-31}   # optional date window")
    lines.append("tables:")
    for name, body in mapping.get("tables", {}).items():
        for note in comments.get(name, []):
            lines.append(f"  # {note}")
        lines.append(f"  {name}:")
        for key in ("table", "query", "params", "file", "date_column", "status_encoding"):
            if body.get(key) not in (None, {}, ""):
                lines.append(f"    {key}: {_yaml_scalar(body[key])}")
        if name == "performance" and "status_encoding" in body:
            lines[-1] += "   # days_past_due | months_behind | bucket_label"
        formats = body.get("date_format") or {}
        undecided = comments.get(f"{name}.date_format", [])
        if formats or undecided:
            # a block of comments alone would read as `date_format: null`
            lines.append("    date_format:" if formats else "    # date_format:")
            for column, fmt in formats.items():
                lines.append(f"      {column}: {_yaml_scalar(fmt)}")
            for column in undecided:
                lines.append(
                    f"      # {column}:".ljust(24)
                    + " # decide: '%d/%m/%Y' (day first) or '%m/%d/%Y' (month first)"
                )
        columns = body.get("columns") or {}
        if columns:
            lines.append("    columns:")
            for lender, target in columns.items():
                key = _yaml_scalar(str(lender))
                if target is None:
                    lines.append(
                        f"      # {key}:".ljust(24)
                        + f" # no guess: a column of '{name}', or leave it out"
                    )
                else:
                    lines.append(f"      {key}: {target}")
        codes = body.get("codes") or {}
        if codes:
            lines.append("    codes:")
            for column, table in codes.items():
                lines.append(f"      {column}:")
                kind = coded_columns(name).get(column, "")
                if kind == "status_code":
                    hint = f"a {body.get('status_encoding', 'days_past_due')} code (docs/data.md)"
                else:
                    hint = ", ".join(allowed_codes(kind, config))
                for code, category in table.items():
                    key = _yaml_scalar(str(code))
                    if category is None:
                        lines.append(f"        {key}: null".ljust(24) + f" # fill in: {hint}")
                    else:
                        lines.append(f"        {key}: {_yaml_scalar(category)}")
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
