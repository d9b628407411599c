"""ForwardingVenue: every ``Venue`` method reaches the wrapped venue unchanged; the decorators build on it."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

from bot.connectors.forwarding import ForwardingVenue
from bot.connectors.metered import MeteredVenue
from bot.connectors.paper import PaperVenue
from bot.interfaces import Venue
from bot.quoting.tracing import TracedVenue

VENUE_METHODS = sorted(
    name for name, member in vars(Venue).items() if not name.startswith("_") and inspect.isfunction(member)
)


class Recording:
    """A venue that answers every call with a fresh sentinel and remembers the call, bound to ``Venue``'s
    signature (so a positional and a keyword argument compare equal)."""

    name = "recording"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], object]] = []

    def __getattr__(self, method: str) -> Any:
        signature = inspect.signature(getattr(Venue, method))

        def answer(*args: Any, **kwargs: Any) -> object:
            result = object()
            self.calls.append((method, dict(signature.bind(self, *args, **kwargs).arguments), result))
            return result

        if not inspect.iscoroutinefunction(getattr(Venue, method)):
            return answer

        async def answer_async(*args: Any, **kwargs: Any) -> object:
            return answer(*args, **kwargs)

        return answer_async


def test_the_venue_protocol_has_the_fourteen_methods_the_decorators_forward() -> None:
    assert len(VENUE_METHODS) == 14
    assert {"place", "cancel", "cancel_replace", "user_events", "close"} <= set(VENUE_METHODS)


@pytest.mark.parametrize("method", VENUE_METHODS)
def test_the_base_defines_every_venue_method_with_the_protocols_signature(method: str) -> None:
    assert method in vars(ForwardingVenue), f"ForwardingVenue does not forward Venue.{method}"
    ours = inspect.signature(vars(ForwardingVenue)[method])
    theirs = inspect.signature(getattr(Venue, method))
    assert list(ours.parameters) == list(theirs.parameters)
    assert [p.default for p in ours.parameters.values()] == [p.default for p in theirs.parameters.values()]
    assert inspect.iscoroutinefunction(vars(ForwardingVenue)[method]) == inspect.iscoroutinefunction(
        getattr(Venue, method))


@pytest.mark.parametrize("method", VENUE_METHODS)
def test_the_base_forwards_every_venue_method_with_its_arguments_and_result(method: str) -> None:
    inner = Recording()
    venue = ForwardingVenue(inner)
    parameters = [p for p in inspect.signature(getattr(Venue, method)).parameters if p != "self"]
    arguments = {p: object() for p in parameters}
    outcome = getattr(venue, method)(*arguments.values())
    if inspect.isawaitable(outcome):
        outcome = asyncio.run(_await(outcome))
    assert len(inner.calls) == 1
    name, bound, result = inner.calls[0]
    assert name == method
    assert {k: v for k, v in bound.items() if k != "self"} == arguments
    if method != "close":  # close returns None
        assert outcome is result


async def _await(awaitable: Any) -> Any:
    return await awaitable


def test_the_name_is_the_inner_venues_unless_given() -> None:
    inner = Recording()
    assert ForwardingVenue(inner).name == "recording"
    assert ForwardingVenue(inner, name="other").name == "other"


@pytest.mark.parametrize("decorator", [MeteredVenue, PaperVenue, TracedVenue])
def test_every_venue_decorator_is_a_forwarding_venue(decorator: type) -> None:
    assert issubclass(decorator, ForwardingVenue)


@pytest.mark.parametrize(("decorator", "changed"), [
    (MeteredVenue, {"place", "cancel", "cancel_replace", "symbols", "book", "query", "open_orders", "balances",
                    "fills", "server_time_ms", "depth_updates", "user_events"}),
    (PaperVenue, {"place", "cancel", "cancel_replace", "query", "open_orders", "fills", "user_events"}),
    (TracedVenue, {"place", "cancel", "cancel_replace", "symbols", "book", "query", "open_orders", "balances",
                   "fills", "server_time_ms"}),
])
def test_a_decorator_overrides_only_what_it_changes(decorator: type, changed: set[str]) -> None:
    assert {m for m in VENUE_METHODS if m in vars(decorator)} == changed
