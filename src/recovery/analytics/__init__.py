"""Portfolio analytics: roll rates, vintages, KPIs, recovery by debt age, forecasts.

Each analytic is a plain function of a snapshots table and a :class:`recovery.Config`.
Those that aggregate over accounts expose their additive building blocks (counts and
sums per partition) publicly, so an engine from a higher layer
(:mod:`recovery.engine`) can map them over partitions; the analytics never import it.
"""
