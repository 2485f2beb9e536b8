"""The account timeline: aging, point-in-time events, features and labels.

Built from the lender's tables of :mod:`recovery.data`: days past due and month-end
snapshots (:mod:`~recovery.timeline.aging`, computed by the allocation ledger of
:mod:`~recovery.timeline.ledger`), what is known of an account at an as-of date
(:mod:`~recovery.timeline.events`, :mod:`~recovery.timeline.known_at`, dates as
:mod:`~recovery.timeline.days`), the point-in-time features
(:mod:`~recovery.timeline.features`, which puts together the families of
:mod:`~recovery.timeline.aging_features`, :mod:`~recovery.timeline.payment_features`,
:mod:`~recovery.timeline.contact_features` and :mod:`~recovery.timeline.account_features`,
all described in :mod:`~recovery.timeline.catalogue`; :mod:`~recovery.timeline.snapshot_features`
for a monthly table alone) and the outcomes after it (:mod:`~recovery.timeline.labels`).
"""
