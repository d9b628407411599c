"""The last check before an order leaves the process.

A connector may hold a request after the order manager decided it: a time sync before a signed request, a
client-side weight limiter, a Retry-After gate, a retry after an unprocessed attempt. Seconds can pass, and a
HARD guard can fire meanwhile (chaos seeds 494 and 760: an order decided before the guard reached the venue
after it). The order manager installs a check for the order it is sending (``send_check``); a connector calls
``check_before_send()`` right before a write goes on the wire, and the check's ``BotError`` stops it there.

It is a context variable, so it follows the sending task through every ``await`` without changing the
``Venue`` protocol, and a request sent from anywhere else (a cancel, a query) is never checked.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from types import TracebackType

__all__ = ["check_before_send", "send_check"]

_CHECK: ContextVar[Callable[[], None] | None] = ContextVar("mmbot_send_check", default=None)


class send_check:  # lower case: used like the function it replaced, ``with send_check(check):``
    """Run ``check`` before every write this task sends inside the block (``None``: no check).

    A small class rather than ``@contextmanager``: one is entered for every order sent, and a generator-based
    context manager costs several times as much.
    """

    __slots__ = ("_check", "_token")

    def __init__(self, check: Callable[[], None] | None) -> None:
        self._check = check
        self._token: Token[Callable[[], None] | None] | None = None

    def __enter__(self) -> None:
        if self._token is not None:  # a second entry would lose the first one's reset: the check would leak
            raise RuntimeError("send_check is not reentrant: use a new one per block")
        self._token = _CHECK.set(self._check)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._token is not None:
            _CHECK.reset(self._token)
            self._token = None


def check_before_send() -> None:
    """Call the installed check, if any; its ``BotError`` means: do not send."""
    check = _CHECK.get()
    if check is not None:
        check()
