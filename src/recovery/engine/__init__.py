"""Engines for books beyond one process: partitioned datasets and Dask.

It sits above the analytics, models and timeline and plugs into them: the Dask
analytics register themselves with the analytics' additive building blocks when this
package is imported (:mod:`recovery` imports it), so
``recovery.roll_rate_matrix(dask_frame)`` works without the analytics importing Dask.
"""
