"""The strategy's shapes and the reference strategy: ``QuoteStage``, ``QuoteStrategy`` and ``QuotePipeline``.

A stage is a small object with a ``name`` and a pure ``process(ctx) -> ctx`` (no I/O, no clock reads). A strategy
is anything with a ``name`` and ``decide(ctx) -> ctx`` that leaves the quotes that should rest in
``ctx.desired`` (and ``ctx.halted``/``ctx.halt_reasons`` when it pulled everything): the reference pipeline and
the baselines are interchangeable to the quote loop.

``QuotePipeline`` runs its stages in order on one context and stops after the first stage that halts (a halted
context entering the pipeline runs no stage). With a ``timer`` (nanoseconds, e.g. ``time.perf_counter_ns``
injected by the caller: the pipeline never reads a clock itself) it records each stage's cost in
``ctx.timings_ns[stage.name]``: one clock read per stage, each stage's end being the next one's start (the
halted check between stages is charged to the stage after it). Stage names must be unique (``ValueError`` otherwise).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from bot.strategy.context import QuoteContext

__all__ = ["QuotePipeline", "QuoteStage", "QuoteStrategy"]


class QuoteStage(Protocol):
    """One step of a pipeline: reads the context, writes its outputs into it, returns it."""

    @property
    def name(self) -> str: ...

    def process(self, ctx: QuoteContext) -> QuoteContext: ...


class QuoteStrategy(Protocol):
    """Decides one cycle's quotes: ``decide`` writes ``ctx.desired`` (empty: pull everything) and returns ``ctx``."""

    @property
    def name(self) -> str: ...

    def decide(self, ctx: QuoteContext) -> QuoteContext: ...


class QuotePipeline:
    """The reference strategy: stages in order, stopping after a halt, optionally timed (module docstring)."""

    def __init__(
        self, stages: Sequence[QuoteStage], timer: Callable[[], int] | None = None, *, name: str = "reference"
    ) -> None:
        names = [stage.name for stage in stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names repeat: {names}")
        self.name = name
        self.stages: tuple[QuoteStage, ...] = tuple(stages)
        self._steps = tuple((stage.name, stage.process) for stage in self.stages)  # bound once, not per decision
        self._timer = timer

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.stages)

    def decide(self, ctx: QuoteContext) -> QuoteContext:
        timer = self._timer
        if timer is None:
            for _, process in self._steps:
                if ctx.halted:
                    break
                ctx = process(ctx)
            return ctx
        timings = ctx.timings_ns
        started = timer()
        for name, process in self._steps:
            if ctx.halted:
                break
            ctx = process(ctx)
            ended = timer()  # one clock read per stage: each stage's end starts the next one
            timings[name] = ended - started
            started = ended
        return ctx

    def __repr__(self) -> str:
        return f"QuotePipeline({list(self.stage_names)!r}, name={self.name!r})"
