"""The sabotage suite: run the general swarm against each mutant tree and score which seeds caught the mutation.

A seed *catches* a mutation when the mutant's session breaks an invariant that the same seed of the unmutated
control tree does not break (so a seed that already fails without the bug, e.g. a harness bug, proves nothing).
A seed whose digest equals the control's ran no mutated line that mattered (``changed`` counts the others).
``escaped`` is a mutation that no seed caught. The control runs once per measurement, in its own copied tree, so
mutants and control differ by exactly the mutation.

Errors: ``MutationError`` (``chaos.sabotage_tree``) when a mutation does not apply or a swarm gives no result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from chaos.sabotage_mutations import Mutation
from chaos.sabotage_tree import SeedOutcome, check_applies, mutant_tree, run_swarm_in


@dataclass(frozen=True, slots=True)
class SabotageResult:
    """What the swarm did against one mutation: seeds that caught it, invariants that fired, changed sessions."""

    mutation: Mutation
    seeds: tuple[int, ...]
    caught: tuple[int, ...]  # seeds with an invariant broken that the control's same seed does not break
    changed: int  # seeds whose digest differs from the control's
    fired: dict[str, int] = field(default_factory=dict)  # new invariant -> seeds where it fired
    digests: dict[int, str] = field(default_factory=dict)
    first_catch: tuple[str, ...] = ()  # the first catching seed's new violations, one line each

    @property
    def rate(self) -> float:
        return len(self.caught) / len(self.seeds) if self.seeds else 0.0

    @property
    def escaped(self) -> bool:
        return not self.caught

    def as_dict(self) -> dict[str, Any]:
        m = self.mutation
        return {"name": m.name, "path": m.path, "description": m.description, "expected_invariant": m.invariant,
                "expected_escape": m.expected_escape, "seeds": list(self.seeds), "caught": list(self.caught),
                "catch_rate": self.rate, "changed": self.changed, "fired": dict(sorted(self.fired.items())),
                "escaped": self.escaped, "first_catch": list(self.first_catch),
                "digests": {str(k): v for k, v in sorted(self.digests.items())}}


def score(mutation: Mutation, control: Sequence[SeedOutcome], mutant: Sequence[SeedOutcome]) -> SabotageResult:
    """Compare a mutant's outcomes with the control's, seed by seed (module docstring)."""
    base = {o.seed: o for o in control}
    caught: list[int] = []
    fired: Counter[str] = Counter()
    changed = 0
    first_catch: tuple[str, ...] = ()
    for outcome in mutant:
        before = base.get(outcome.seed)
        if before is None:
            raise ValueError(f"seed {outcome.seed} of {mutation.name!r} has no control outcome")
        changed += outcome.digest != before.digest
        new = sorted(set(outcome.invariants) - set(before.invariants))
        if new:
            if not caught:
                first_catch = tuple(d for d in outcome.details if d.split(" ", 1)[0] in new)
            caught.append(outcome.seed)
            fired.update(new)
    return SabotageResult(mutation=mutation, seeds=tuple(o.seed for o in mutant), caught=tuple(caught),
                          changed=changed, fired=dict(fired), digests={o.seed: o.digest for o in mutant},
                          first_catch=first_catch)


def measure(mutations: Sequence[Mutation], seeds: Sequence[int], *, minutes: float = 5.0, jobs: int = 2,
            on_result: Callable[[SabotageResult], None] | None = None,
            ) -> tuple[list[SeedOutcome], list[SabotageResult]]:
    """Run the control and every mutant on ``seeds``; the control's outcomes and each mutation's result."""
    for mutation in mutations:  # fail before any swarm runs if the code moved under one of them
        check_applies(mutation)
    with mutant_tree(None) as tree:
        control = run_swarm_in(tree, seeds, minutes=minutes, jobs=jobs)
    results = []
    for mutation in mutations:
        with mutant_tree(mutation) as tree:
            outcomes = run_swarm_in(tree, seeds, minutes=minutes, jobs=jobs, name=mutation.name)
        result = score(mutation, control, outcomes)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return control, results
