"""Lender data: the data contract, loading, validation, sources and mappings.

The lowest layer above :mod:`recovery.config` and :mod:`recovery.errors`. Its modules,
each importing only the ones listed before it:

- :mod:`~recovery.data.portfolio`: the :class:`~recovery.data.portfolio.Portfolio`, a
  book's tables held together;
- :mod:`~recovery.data.contract`: the data contract as data (tables, columns, rules);
- :mod:`~recovery.data.dates`: dates read as ISO 8601 or a declared format, never guessed;
- :mod:`~recovery.data.offers`: the ``offers`` table's rules across columns and
  against the ledger (plans and deferrals are schedule versions, settlements events);
- :mod:`~recovery.data.schema`: the contract's validation (and its names, re-exported);
- :mod:`~recovery.data.performance`: monthly performance tables read as ``snapshots``,
  and lender codes as text;
- :mod:`~recovery.data.reversals`: reversals exported as negative payment rows;
- :mod:`~recovery.data.mapped_tables`: what each table a mapping names is mapped to;
- :mod:`~recovery.data.mapping`: the mapping file (a lender's tables, columns and codes
  → the contract), read, checked and applied;
- :mod:`~recovery.data.windows`: the date window, which rows of a book it keeps;
- :mod:`~recovery.data.sources`: portfolios in SQL databases;
- :mod:`~recovery.data.io`: portfolios in directories of CSV or Parquet files (and the
  entry point that reads either);
- :mod:`~recovery.data.starter_mapping`: a first mapping file guessed from a sample of a
  lender's files.

It imports nothing from the layers above.
"""
