"""Lender data: the data contract, loading, validation, sources and mappings.

The lowest layer above :mod:`recovery.config` and :mod:`recovery.errors`: the tables of
a portfolio (:mod:`~recovery.data.schema`, :mod:`~recovery.data.portfolio`), reading and
writing them from files (:mod:`~recovery.data.io`) and databases
(:mod:`~recovery.data.sources`), renaming a lender's columns and codes
(:mod:`~recovery.data.mapping`) and monthly performance files
(:mod:`~recovery.data.performance`). It imports nothing from the layers above.
"""
