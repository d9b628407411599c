"""The harness: everything that runs the bot on the simulated exchange and nothing a live deployment needs.

``harness.session`` runs one simulated session (``run_sim_session``) with its operator and fault hooks
(``harness.session_harness``), the simulated venue behind the in-process transport (``harness.session_venue``) and
the checker's limits derived from the bot config (``harness.check_config``); ``harness.lab`` runs one lab point
into a run directory; ``harness.tools`` are the offline tools over sessions (regression matrix, calibration, soak,
profile, edge drift); ``harness.memory`` is the memory watch of the ``memory_pressure`` fault.

Layering (ADR 0017, enforced by ``tests/unit/test_imports.py`` and ``tests/unit/test_import_graph.py``): the
harness imports ``bot``, ``exchange_sim`` and ``reports``; ``bot`` never imports the harness; ``chaos``, ``stress``,
``bench`` and ``regression`` build on the harness; the ``mmbot`` CLI composes them all.
"""
