"""Simulated loan books with borrower behaviour and ground truth (issue 4).

A seeded generative model of a lender's book: an aged back book plus monthly
vintages of consumer and small-business installment loans, borrowers with latent
ability and willingness to pay and the seven archetypes of seed 001, life and
business shocks, a monthly payment process with partial, late, catch-up and
returned payments, restructures and settlements, charge-off at the configured DPD
and post-charge-off recovery that decays with debt age and the limitation period.
It writes the contract tables of :mod:`recovery.data.schema` and separate truth tables
(:class:`Truth`); a collection operation plugs in through :mod:`.hooks`.

See ``docs/simulator.md``.

Examples
--------
>>> from recovery.simulate import simulate_portfolio
>>> portfolio, truth = simulate_portfolio(n_accounts=20, months=6, seed=0, operation=None)
>>> sorted(truth.tables())
['account_months', 'borrowers', 'recovery_by_age', 'recovery_curve', 'shocks']
"""

from recovery.simulate.hooks import (
    BookInfo,
    CollectionOperation,
    MonthState,
    NoOperation,
    OperationResponse,
)
from recovery.simulate.offers import OfferParams, OfferResponse
from recovery.simulate.params import (
    ARCHETYPES,
    SCENARIOS,
    SHOCK_TYPES,
    SimulationParams,
    get_scenario,
)
from recovery.simulate.simulation import iter_simulation, simulate_portfolio
from recovery.simulate.truth import Truth, load_truth, save_truth

__all__ = [
    "simulate_portfolio",
    "iter_simulation",
    "Truth",
    "save_truth",
    "load_truth",
    "SimulationParams",
    "SCENARIOS",
    "get_scenario",
    "ARCHETYPES",
    "SHOCK_TYPES",
    "CollectionOperation",
    "NoOperation",
    "OperationResponse",
    "MonthState",
    "BookInfo",
    "OfferParams",
    "OfferResponse",
]
