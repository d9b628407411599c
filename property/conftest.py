"""Hypothesis settings profiles for the property suite: "ci" (default, 300 fixed-seed examples) and "deep" (10,000).

"ci" is derandomized (``derandomize=True``): every run draws the same examples, so CI is repeatable and a red
run replays; "deep" stays random, to find what the fixed examples miss.

Select with ``HYPOTHESIS_PROFILE=deep`` or pytest's ``--hypothesis-profile deep``; deadlines are off because
stateful runs vary in length, and the stateful step count is bounded so one example stays fast.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

for _name, _examples, _derandomize in (("ci", 300, True), ("deep", 10_000, False)):
    settings.register_profile(
        _name,
        max_examples=_examples,
        derandomize=_derandomize,
        deadline=None,
        stateful_step_count=50,
        suppress_health_check=[HealthCheck.too_slow],
    )
# A ``--hypothesis-profile`` option is applied by Hypothesis' pytest plugin after this module is imported.
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
