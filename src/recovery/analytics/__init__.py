"""Portfolio analytics: roll rates, vintages, KPIs, recovery by debt age, forecasts.

Each analytic is a plain function of a snapshots table and a :class:`recovery.Config`:
:mod:`~recovery.analytics.roll_rates`, :mod:`~recovery.analytics.vintages`,
:mod:`~recovery.analytics.kpis`, :mod:`~recovery.analytics.collection_cycle`,
:mod:`~recovery.analytics.recovery_curves`, :mod:`~recovery.analytics.liquidation` and
:mod:`~recovery.analytics.forecast`; :mod:`~recovery.analytics.variation` says whether a KPI's
month-on-month change lies outside its normal variation. They share the roll-rate states
(:mod:`~recovery.analytics.states`), the debt-month observations
(:mod:`~recovery.analytics.debt_age`) and small helpers and parameter texts
(:mod:`~recovery.analytics.common`).

Those that aggregate over accounts expose their additive building blocks (counts and
sums per partition) publicly, and their totals step is generic on the table's type,
so an engine from a higher layer (:mod:`recovery.engine`) registers itself and maps
the building blocks over partitions; the analytics never import it.
"""
