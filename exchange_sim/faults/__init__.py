"""The fault catalogue of DESIGN section 3: a documented data model, scenario files, a swarm generator and an
injector for the in-process venue. Everything is off by default: a venue without an installed injector behaves
exactly as it always did.

Modules: ``model`` (FaultKind, Fault, Scenario, CATALOGUE), ``paths`` (where each kind applies: request,
response, stream, market, process; which transport carries which path), ``scenario`` (load_scenario, to_yaml,
draw_scenario); the effects, written once for both transports: ``timing`` (windows, triggers, hit draws and
records), ``effects`` (request and response paths), ``frames`` (stream path), ``market`` (market path); the
in-process delivery: ``injector`` (FaultInjector) with its parts ``requests`` and ``streams`` (the wire server's
is ``exchange_sim.server.faults``); ``errors`` (VenueHttpError: 429, 418, 503, 403) and ``hooks`` (the venue's
hook points).
"""

from exchange_sim.faults.errors import VenueHttpError
from exchange_sim.faults.injector import FaultInjector
from exchange_sim.faults.market import AGENT, INJECTED_PREFIX
from exchange_sim.faults.model import CATALOGUE, Fault, FaultKind, KindSpec, ParamSpec, Scenario
from exchange_sim.faults.paths import APPLIES
from exchange_sim.faults.scenario import ScenarioError, draw_scenario, load_scenario, scenario_from_data, to_yaml

__all__ = [
    "AGENT", "APPLIES", "CATALOGUE", "INJECTED_PREFIX", "Fault", "FaultInjector", "FaultKind", "KindSpec", "ParamSpec",
    "Scenario", "ScenarioError", "VenueHttpError", "draw_scenario", "load_scenario", "scenario_from_data", "to_yaml",
]
