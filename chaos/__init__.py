"""The chaos gate: swarms of seeded simulated sessions under drawn fault schedules, checked against the invariants.

Modules: ``spec`` (what one session is: seed, length, fault kinds or an explicit scenario, and the session config
the gate runs), ``runner`` (run one session, or a swarm on local processes or a Dask cluster), ``shrink``
(minimise a failing schedule), ``sabotage`` (test-only switches that turn one safety mechanism off, to prove the
gate catches it), ``report`` (tables, JSON, replay commands) and ``cli`` (``mmbot chaos``).
"""

from chaos.runner import SessionResult, run_spec, run_swarm
from chaos.spec import SessionSpec, chaos_config

__all__ = ["SessionResult", "SessionSpec", "chaos_config", "run_spec", "run_swarm"]
