"""Shipped and generated example data.

``load_sample()`` returns the small portfolio committed in ``data/sample/`` (made by
the simulator, packaged with the library). ``load_sample("demo")`` builds a larger
deterministic book with the simulator on first use and caches it outside git (in
``$RECOVERY_CACHE`` or ``~/.cache/recovery``), for notebooks and the report where the
committed sample is too small to show signal. ``load_sample("offers")`` is built and
cached the same way, apart from the others: a book of the ``offers`` scenario, with
the ``offers`` table (payment plans, settlements, deferrals) and the offers' truth, so
the main sample and every figure measured on it stay as they are.

The committed sample (see ``docs/data.md``): about 2,000 accounts simulated over 84
months with the benchmark scenario; tables ``accounts``, ``schedule``, ``payments``,
``actions``, ``agents``, ``assignments``, ``events`` with the columns of
:data:`recovery.data.schema.TABLES`, and the simulator's truth in ``data/sample/truth/``
(never read by the pipeline).
"""

from __future__ import annotations

import os
from pathlib import Path

from recovery.data.portfolio import Portfolio
from recovery.errors import DataError

__all__ = ["load_sample", "load_sample_truth", "sample_path", "DEMO_SETTINGS", "OFFERS_SETTINGS"]

DEMO_SETTINGS = {"n_accounts": 20_000, "months": 84, "seed": 2024, "scenario": "benchmark"}
#: The offers sample: the ``offers`` scenario, built on first use (about a minute).
OFFERS_SETTINGS = {"n_accounts": 3_000, "months": 60, "seed": 22, "scenario": "offers"}
_BUILT = {"demo": DEMO_SETTINGS, "offers": OFFERS_SETTINGS}


def sample_path(name: str = "sample") -> Path:
    """Directory of a sample: the packaged ``sample`` or a cached ``demo`` or ``offers`` book."""
    if name == "sample":
        packaged = Path(__file__).parent / "data" / "sample"
        if (packaged / "accounts.parquet").is_file():
            return packaged
        repo = Path(__file__).resolve().parents[2] / "data" / "sample"
        if (repo / "accounts.parquet").is_file():
            return repo
        raise DataError(
            "the shipped sample is missing: reinstall recovery or regenerate data/sample"
        )
    if name in _BUILT:
        root = Path(os.environ.get("RECOVERY_CACHE", Path.home() / ".cache" / "recovery"))
        tag = "-".join(str(v) for v in _BUILT[name].values())
        return root / f"{name}-{tag}"
    raise DataError(f"unknown sample {name!r}: use 'sample', 'demo' or 'offers'")


def _build(directory: Path, settings: dict) -> None:
    from recovery.data.io import save_portfolio
    from recovery.simulate import save_truth, simulate_portfolio

    portfolio, truth = simulate_portfolio(**settings)
    staging = directory.with_name(directory.name + ".building")
    save_portfolio(portfolio, staging)
    save_truth(truth, staging / "truth")
    if directory.exists():  # pragma: no cover - a concurrent build won
        return
    staging.rename(directory)


def load_sample(name: str = "sample") -> Portfolio:
    """Load an example portfolio.

    Parameters
    ----------
    name : {"sample", "demo", "offers"}
        ``sample``: the committed sample (≈2,000 accounts, 84 months). ``demo``: a
        ≈20,000-account book simulated on first use (a minute or two) and cached.
        ``offers``: a 3,000-account book of the ``offers`` scenario (with an ``offers``
        table), simulated on first use and cached.

    Returns
    -------
    Portfolio
        Validated tables; ``meta['data_end']`` is the last simulated day.

    Examples
    --------
    >>> p = load_sample()
    >>> sorted(p.table_names())[:3]
    ['accounts', 'actions', 'agents']
    """
    from recovery.data.io import load_portfolio

    directory = sample_path(name)
    if name in _BUILT and not (directory / "accounts.parquet").is_file():
        directory.parent.mkdir(parents=True, exist_ok=True)
        _build(directory, _BUILT[name])
    return load_portfolio(directory)


def load_sample_truth(name: str = "sample"):
    """The simulator's truth tables behind a sample (for evaluation only).

    Examples
    --------
    >>> truth = load_sample_truth()
    >>> "account_months" in truth.tables()
    True
    """
    from recovery.simulate import load_truth

    if name in _BUILT:
        load_sample(name)
    return load_truth(sample_path(name) / "truth")
