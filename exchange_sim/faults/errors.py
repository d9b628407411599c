"""Errors the fault injector answers with besides the engine's rejects: HTTP-level failures with a status.

``VenueHttpError`` is an ``EngineError`` (so existing callers that catch engine rejects see its Binance code and
message) that also carries the HTTP status the wire server would send and, for 429/418, ``Retry-After`` in
seconds. Statuses: 429 (-1003, over the weight limit), 418 (-1003, IP banned), 503 (writes: -1007, execution
status unknown; reads: -1001, not processed), 403 (WAF block, -1000, not processed).
"""

from __future__ import annotations

from exchange_sim.engine.types import EngineError, ErrorCode

UNKNOWN_STATUS_MSG = "Timeout waiting for response from backend server. Send status unknown; execution status unknown."


class VenueHttpError(EngineError):
    """A request failed at the HTTP level (see module docstring)."""

    def __init__(self, http_status: int, code: ErrorCode, msg: str, *, retry_after_s: int | None = None) -> None:
        super().__init__(code, msg)
        self.http_status = http_status
        self.retry_after_s = retry_after_s


def too_many_requests(limit: int, window_s: float, retry_after_s: int) -> VenueHttpError:
    return VenueHttpError(
        429, ErrorCode.TOO_MANY_REQUESTS,
        f"Too much request weight used; current limit is {limit} request weight per {window_s:g} SECOND. "
        "Please use WebSocket Streams for live updates to avoid polling the API.",
        retry_after_s=retry_after_s,
    )


def banned(until_ms: int, retry_after_s: int) -> VenueHttpError:
    return VenueHttpError(
        418, ErrorCode.TOO_MANY_REQUESTS,
        f"Way too much request weight used; IP banned until {until_ms}. "
        "Please use WebSocket Streams for live updates to avoid bans.",
        retry_after_s=retry_after_s,
    )


def unavailable(write: bool) -> VenueHttpError:
    if write:
        return VenueHttpError(503, ErrorCode.TIMEOUT, UNKNOWN_STATUS_MSG)
    msg = "Internal error; unable to process your request. Please try again."
    return VenueHttpError(503, ErrorCode.DISCONNECTED, msg)


def waf_blocked() -> VenueHttpError:
    return VenueHttpError(403, ErrorCode.UNKNOWN, "Forbidden: the WAF limit was violated.")


def backend_timeout() -> EngineError:
    """-1007: the request was processed (or may have been); the reply says nothing about its outcome."""
    return EngineError(ErrorCode.TIMEOUT, UNKNOWN_STATUS_MSG)
