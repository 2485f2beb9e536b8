"""The account timeline: aging, point-in-time events, features and labels.

Built from the lender's tables of :mod:`recovery.data`: days past due and month-end
snapshots (:mod:`~recovery.timeline.aging`), what is known of an account at an as-of
date (:mod:`~recovery.timeline.events`), the point-in-time features
(:mod:`~recovery.timeline.features`) and the outcomes after it
(:mod:`~recovery.timeline.labels`).
"""
