"""The collection operation of the simulated lender (simulator part 2, issue 5).

:class:`CollectionOperation` implements :class:`recovery.simulate.hooks.CollectionOperation`:
each month, for the live accounts of a chunk, it

1. keeps **assignment spells** (account → agent or agency): M1–M2 cases go to the
   early team, M3–M6 to the late team, charged-off debt to the legal team, and part of
   the recovery book is placed with outside agencies for a few months. Assignment is
   **not random** — the hardest cases (by an observed difficulty score) go to senior
   agents (:func:`recovery.simulate.collectors.assign_agents`) — except for the
   **randomised share** (default 10 % of accounts), whose spells get a uniformly drawn
   agent and a random arm: ``hold_out`` (no contact), ``champion`` (the standard policy)
   or ``challenger`` (more contact attempts);
2. plans and times actions by the escalation policy
   (:data:`recovery.simulate.contacts.DEFAULT_POLICY`), limited by agent capacity, and
   draws their outcomes from the borrower's latent type; records the stated reason and
   the collector's (noisy) impression of the borrower's type;
3. keeps normal work inside the contact rules of ``config.compliance`` (hours,
   attempts a day and a rolling week, third-party contacts, no contact during a
   dispute, after a reported death or — calls and visits — during a hardship plan; no
   lawsuit after the limitation period) and **injects violations** on accounts held by
   a few violator agents, recording each (action, rule) in the truth;
4. turns the month's contacts into an **odds multiplier** on the borrower's payment
   probability (channel × outcome weight × the archetype's response × bucket × agent
   skill, saturating) and a promised payment into a payment day and a raised
   probability of paying (the archetype's promise keeping); whether a promise was kept
   is read back from the ledger the next month.

Tables (from :meth:`CollectionOperation.tables`): ``actions``, ``agents``,
``assignments`` (with ``randomized`` and ``arm``), ``events`` (``dispute_closed``,
``hardship_plan``, ``hardship_plan_ended``, ``legal_filed``) and the truth tables ``truth_agents``,
``truth_violations``, ``truth_promises``, ``truth_spells``, ``truth_operation_months``,
``truth_contact_effects`` and ``truth_operation_params`` (every parameter, JSON).

Modules: :mod:`.params` (:class:`OperationParams`), :mod:`.state` (a chunk's
bookkeeping), :mod:`.assignments` (teams, spells, placements, the experiment),
:mod:`.planning` (policy, the plan seam, capacity, attempts), :mod:`.rows` (the
month's action rows), :mod:`.rules` (contact rules and their truth),
:mod:`.violations` (injected rule breaking), :mod:`.promises`, :mod:`.effects`
(odds multiplier), :mod:`.tables` (records and assembled tables) and
:mod:`.department` (:class:`CollectionOperation`, the month in order).

Examples
--------
>>> from recovery.simulate import simulate_portfolio
>>> portfolio, truth = simulate_portfolio(n_accounts=300, months=12, seed=2)
>>> {"sms", "call", "letter"} <= set(portfolio.actions["channel"])
True
>>> bool(portfolio.assignments["randomized"].any())
True
"""

from recovery.simulate.operation.department import CollectionOperation
from recovery.simulate.operation.params import OperationParams
from recovery.simulate.operation.planning import PlanContext
from recovery.simulate.operation.rules import VIOLATION_RULES

__all__ = ["OperationParams", "CollectionOperation", "PlanContext", "VIOLATION_RULES"]
