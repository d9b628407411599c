"""The gate catches realistic bugs: every listed one-line mutation still applies to the current tree, runs in a
copied tree (never in this process), and, unless marked ``expected_escape``, the general all-fault swarm catches
it on the seeds its measurement found (``Mutation.ci_seeds``): an invariant broken that the unmutated control does
not break on the same seed. A caught mutant's session replays in a fresh process with the same digest.
"""

from __future__ import annotations

import json
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
    control = [SeedOutcome(0, ("10.liveness",), "a"), SeedOutcome(1, ("10.liveness",), "b"),
               SeedOutcome(2, (), "c")]
    details = ("10.liveness at 9.000s: no quote", "1.ledger at 7.000s: bot position 3 lots, venue 1")
    mutant = [SeedOutcome(0, ("10.liveness",), "x"), SeedOutcome(1, ("10.liveness", "1.ledger"), "y", details),
              SeedOutcome(2, (), "c")]
    result = score(mutation, control, mutant)
    assert result.caught == (1,)
    assert result.first_catch == ("1.ledger at 7.000s: bot position 3 lots, venue 1",)
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


def _fake_measure(caught: dict[str, tuple[int, ...]]) -> object:
    def measure(mutations: tuple[Mutation, ...], seeds: range, **kwargs: object) -> object:
        control = [SeedOutcome(s, ("10.liveness",) if s == 1 else (), f"c{s}") for s in seeds]
        results = []
        for mutation in mutations:  # the control's failures, plus 1.ledger on the seeds that catch it
            mutant = [SeedOutcome(c.seed, (*c.invariants, *(("1.ledger",) if c.seed in caught[mutation.name] else ())),
                                  f"m{c.seed}") for c in control]
            results.append(score(mutation, control, mutant))
            on_result = kwargs["on_result"]
            assert callable(on_result)
            on_result(results[-1])
        return control, results
    return measure


def _run_cli(monkeypatch: pytest.MonkeyPatch, caught: dict[str, tuple[int, ...]], *args: str) -> tuple[int, str]:
    from typer.testing import CliRunner  # noqa: PLC0415 - only the CLI tests need it

    from chaos import sabotage_cli  # noqa: PLC0415
    from chaos.cli import chaos_app  # noqa: PLC0415 - `mmbot chaos` itself (chaos never imports the mmbot CLI)

    monkeypatch.setattr(sabotage_cli, "measure", _fake_measure(caught))
    done = CliRunner().invoke(chaos_app, ["sabotage", "--only", ",".join(caught), "--seeds", "3", *args])
    return done.exit_code, done.output


def test_the_cli_prints_each_catch_rate_and_exits_1_when_a_guarded_sabotage_escapes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    guarded = next(m.name for m in GUARDED if m.name != "position_sign_flip")
    code, output = _run_cli(monkeypatch, {guarded: (), "position_sign_flip": (0, 2)})
    assert code == 1
    assert f"{guarded}: ESCAPED 0/3 seeds (0%)" in output
    assert "position_sign_flip: caught 2/3 seeds (67%)" in output
    assert "fired: 1.ledger x2" in output
    assert "seed 0 digest m0" in output
    assert "control (no sabotage): 1/3 seeds fail: 1 (10.liveness)" in output
    assert f"escaped: {guarded}" in output


def test_the_cli_reports_an_expected_escape_without_failing_and_writes_json(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    escape = next(m for m in MUTATIONS if m.expected_escape)
    out = tmp_path / "sabotage.json"
    code, output = _run_cli(monkeypatch, {escape.name: (), "position_sign_flip": (2,)}, "--json", str(out))
    assert code == 0, output
    assert f"{escape.name}: escaped (expected) 0/3 seeds" in output
    assert "position_sign_flip: caught 1/3 seeds" in output  # seed 1 fails in the control alike: not a catch
    payload = json.loads(out.read_text())
    rates = {s["name"]: s["catch_rate"] for s in payload["sabotages"]}
    assert rates == {"position_sign_flip": pytest.approx(1 / 3), escape.name: 0.0}


def test_the_cli_names_an_unknown_sabotage(monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = _run_cli(monkeypatch, {"no_such_bug": ()})
    assert code == 2
    assert "no_such_bug" in output
