"""The gate catches realistic bugs: every listed one-line mutation still applies to the current tree, runs in a
copied tree (never in this process), and, unless marked ``expected_escape``, the general all-fault swarm catches
it on the seeds its measurement found (``Mutation.ci_seeds``): an invariant broken that the unmutated control does
not break on the same seed. A caught mutant's session replays in a fresh process with the same digest.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chaos.sabotage_mutations import BY_NAME, MUTATIONS, Mutation, select
from chaos.sabotage_suite import score
from chaos.sabotage_tree import (
    REPO_ROOT,
    MutationError,
    SeedOutcome,
    apply_mutation,
    check_applies,
    copy_packages,
    mutant_tree,
    run_swarm_in,
    tree_env,
)
from exchange_sim.checker import INVARIANTS

CI_MINUTES = 5.0  # the simulated minutes the ci_seeds were measured at
GUARDED = tuple(m for m in MUTATIONS if not m.expected_escape)
CONTROL_SEEDS = tuple(sorted({s for m in GUARDED for s in m.ci_seeds}))


@pytest.mark.parametrize("name", [m.name for m in MUTATIONS])
def test_the_mutation_still_applies_to_the_current_tree(name: str) -> None:
    check_applies(BY_NAME[name])  # MutationError names the mutation and its file when the code moved


def test_the_catalogue_has_at_least_15_distinct_realistic_mutations_with_known_invariants() -> None:
    assert len(MUTATIONS) >= 15
    assert len(BY_NAME) == len(MUTATIONS)
    for mutation in MUTATIONS:
        assert mutation.original != mutation.replacement, mutation.name
        assert mutation.invariant in INVARIANTS, mutation.name
        assert mutation.path.startswith("bot/"), mutation.name
    assert {m.path.split("/")[1] for m in MUTATIONS} >= {"execution", "risk", "market", "connectors"}


def test_every_guarded_mutation_names_the_seeds_that_caught_it_and_every_escape_its_measurement() -> None:
    for mutation in MUTATIONS:
        assert bool(mutation.ci_seeds) != bool(mutation.expected_escape), mutation.name
        assert len(mutation.ci_seeds) <= 3, f"{mutation.name}: the CI subset stays small"


def test_select_keeps_catalogue_order_and_names_an_unknown_sabotage() -> None:
    first, second = MUTATIONS[0].name, MUTATIONS[1].name
    assert [m.name for m in select(f"{second},{first}")] == [first, second]
    assert select(None) == MUTATIONS
    with pytest.raises(KeyError, match="no_such_bug"):
        select("no_such_bug")


def test_a_moved_snippet_is_an_error_naming_the_mutation_and_its_file(tmp_path: Path) -> None:
    copy_packages(tmp_path)
    mutation = MUTATIONS[0]
    target = tmp_path / mutation.path
    target.write_text(target.read_text().replace(mutation.original, "pass  # rewritten"))
    with pytest.raises(MutationError, match=f"{mutation.name}.*not found in {mutation.path}"):
        check_applies(mutation, tmp_path)
    with pytest.raises(MutationError, match=mutation.name):
        apply_mutation(mutation, tmp_path)


def test_a_snippet_found_twice_is_an_error() -> None:
    twice = Mutation("twice", "bot/execution/order_manager.py", "self", "me", "ambiguous", "1.ledger")
    with pytest.raises(MutationError, match=r"twice.*found [0-9]+ times"):
        check_applies(twice)


def test_a_mutation_that_breaks_the_syntax_is_refused(tmp_path: Path) -> None:
    copy_packages(tmp_path)
    mutation = MUTATIONS[0]
    broken = Mutation("broken", mutation.path, mutation.original, "(((", "syntax", "1.ledger")
    with pytest.raises(MutationError, match=r"broken.*does not compile"):
        apply_mutation(broken, tmp_path)


def test_a_mutant_tree_is_what_its_subprocess_imports_and_the_live_code_is_untouched() -> None:
    mutation = BY_NAME["position_sign_flip"]
    live = (REPO_ROOT / mutation.path).read_text()
    with mutant_tree(mutation) as tree:
        probe = "import bot.execution.order_manager as m, inspect; print(m.__file__); print(inspect.getsource(m))"
        done = subprocess.run([sys.executable, "-c", probe], cwd=tree, env=tree_env(tree), capture_output=True,
                              text=True, timeout=60, check=True)
        first, source = done.stdout.split("\n", 1)
        assert Path(first).is_relative_to(tree)
        assert mutation.replacement in source and mutation.original not in source
    assert (REPO_ROOT / mutation.path).read_text() == live
    assert not tree.exists()


def test_a_seed_that_fails_without_the_bug_is_no_catch() -> None:
    mutation = MUTATIONS[0]
    control = [SeedOutcome(0, ("10.liveness",), "a"), SeedOutcome(1, (), "b"), SeedOutcome(2, (), "c")]
    mutant = [SeedOutcome(0, ("10.liveness",), "x"), SeedOutcome(1, ("1.ledger",), "y"), SeedOutcome(2, (), "c")]
    result = score(mutation, control, mutant)
    assert result.caught == (1,)
    assert result.fired == {"1.ledger": 1}
    assert result.changed == 2
    assert result.rate == pytest.approx(1 / 3)
    assert not score(mutation, control, control).caught


@pytest.fixture(scope="module")
def control() -> list[SeedOutcome]:
    with mutant_tree(None) as tree:
        return run_swarm_in(tree, CONTROL_SEEDS, minutes=CI_MINUTES, jobs=1)


@pytest.mark.chaos
@pytest.mark.parametrize("name", [m.name for m in GUARDED])
def test_the_general_swarm_catches_the_sabotage(name: str, control: list[SeedOutcome]) -> None:
    mutation = BY_NAME[name]
    with mutant_tree(mutation) as tree:
        outcomes = run_swarm_in(tree, mutation.ci_seeds, minutes=CI_MINUTES, jobs=1, name=name)
    result = score(mutation, [o for o in control if o.seed in mutation.ci_seeds], outcomes)
    assert result.caught, (f"sabotage {name!r} ({mutation.description}) escaped the general swarm on its seeds "
                           f"{mutation.ci_seeds} at {CI_MINUTES:g} min: no invariant broke that the control does "
                           f"not break; sessions changed {result.changed}/{len(outcomes)}; expected "
                           f"{mutation.invariant}. Re-measure: mmbot chaos sabotage --only {name} --seeds 40")


@pytest.mark.chaos
def test_a_caught_mutant_session_replays_in_a_fresh_process_with_the_same_digest() -> None:
    mutation = BY_NAME["position_sign_flip"]
    seeds = mutation.ci_seeds[:1]
    with mutant_tree(mutation) as tree:
        first = run_swarm_in(tree, seeds, minutes=CI_MINUTES, jobs=1, name=mutation.name)
    with mutant_tree(mutation) as tree:
        again = run_swarm_in(tree, seeds, minutes=CI_MINUTES, jobs=1, name=mutation.name)
    assert first[0].invariants, f"seed {seeds[0]} no longer catches position_sign_flip"
    assert again == first
