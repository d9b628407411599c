"""Error codes and the one exception type of the bot: ``BotError(code, message, recoverable, retry_after_ms)``.

Every failure the bot handles carries an ``ErrorCode``. The code decides what happens next:

* *fatal for this order* (``recoverable=False``): a venue reject (balance, filter, post-only, duplicate id)
  or a bad request. Never retried: retrying a fatal reject is a retry storm.
* *transient* (``recoverable=True``): rate limits, network errors before the request was sent, venue
  unavailable, clock skew. Retried with backoff, never before ``retry_after_ms``.
* *unknown outcome* (``ErrorCode.UNKNOWN_OUTCOME``): the request may have been executed (timeout after
  sending, 5xx, -1007). Never booked as a failure and never resubmitted under a new id: the order is queried
  by its client order id until its fate is known.

``venue_error(code, msg)`` maps Binance's numeric codes to these.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    # venue rejects: fatal for the order
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    WOULD_TAKE = "WOULD_TAKE"  # post-only order would cross
    FILTER_FAILURE = "FILTER_FAILURE"
    DUPLICATE_ORDER = "DUPLICATE_ORDER"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"  # cancel/query of an order the venue does not know
    BAD_REQUEST = "BAD_REQUEST"
    BAD_SYMBOL = "BAD_SYMBOL"
    AUTH_FAILED = "AUTH_FAILED"
    VENUE_REJECTED = "VENUE_REJECTED"  # any other reject
    # transient
    RATE_LIMITED = "RATE_LIMITED"  # 429 / -1003: wait Retry-After
    IP_BANNED = "IP_BANNED"  # 418: must never happen; wait Retry-After
    TIMESTAMP_OUT_OF_WINDOW = "TIMESTAMP_OUT_OF_WINDOW"  # -1021: resync server time
    NETWORK = "NETWORK"  # the request was not sent (connect failed)
    VENUE_UNAVAILABLE = "VENUE_UNAVAILABLE"  # 503 / maintenance / WAF 403
    # neither success nor failure
    UNKNOWN_OUTCOME = "UNKNOWN_OUTCOME"  # timeout after sending, 5xx, -1007
    # the bot's own decisions
    RISK_REJECTED = "RISK_REJECTED"  # a pre-trade check refused the order
    CIRCUIT_OPEN = "CIRCUIT_OPEN"  # too many errors: sending paused
    HALTED = "HALTED"  # HARD guard or kill switch: no new orders
    SHUTTING_DOWN = "SHUTTING_DOWN"
    STALE_DATA = "STALE_DATA"
    SEQUENCE_GAP = "SEQUENCE_GAP"
    CONFIG_INVALID = "CONFIG_INVALID"
    STATE_INVALID = "STATE_INVALID"  # persisted state unreadable or inconsistent
    INTERNAL = "INTERNAL"  # a bug: logged with its traceback


_TRANSIENT = frozenset(
    {
        ErrorCode.RATE_LIMITED, ErrorCode.IP_BANNED, ErrorCode.TIMESTAMP_OUT_OF_WINDOW, ErrorCode.NETWORK,
        ErrorCode.VENUE_UNAVAILABLE, ErrorCode.CIRCUIT_OPEN,
    }
)


class BotError(Exception):
    """A failure with a code. ``recoverable`` defaults from the code; ``retry_after_ms`` is a lower bound."""

    def __init__(
        self,
        code: ErrorCode,
        message: str,
        *,
        recoverable: bool | None = None,
        retry_after_ms: int | None = None,
        venue_code: int | None = None,
    ) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
        self.recoverable = code in _TRANSIENT if recoverable is None else recoverable
        self.retry_after_ms = retry_after_ms
        self.venue_code = venue_code

    @property
    def outcome_unknown(self) -> bool:
        return self.code is ErrorCode.UNKNOWN_OUTCOME

    def __repr__(self) -> str:
        return (
            f"BotError({self.code.value!r}, {self.message!r}, recoverable={self.recoverable}, "
            f"retry_after_ms={self.retry_after_ms})"
        )


_BY_VENUE_CODE: dict[int, ErrorCode] = {
    -1003: ErrorCode.RATE_LIMITED,
    -1015: ErrorCode.RATE_LIMITED,
    -1006: ErrorCode.UNKNOWN_OUTCOME,
    -1007: ErrorCode.UNKNOWN_OUTCOME,
    -1013: ErrorCode.FILTER_FAILURE,
    -1021: ErrorCode.TIMESTAMP_OUT_OF_WINDOW,
    -1022: ErrorCode.AUTH_FAILED,
    -2014: ErrorCode.AUTH_FAILED,
    -2015: ErrorCode.AUTH_FAILED,
    -1121: ErrorCode.BAD_SYMBOL,
    -2011: ErrorCode.UNKNOWN_ORDER,
    -2013: ErrorCode.UNKNOWN_ORDER,
}


def venue_error(code: int, msg: str, *, retry_after_ms: int | None = None) -> BotError:
    """Map a Binance ``{"code", "msg"}`` error to a ``BotError``."""
    mapped = _BY_VENUE_CODE.get(code)
    if mapped is None and code == -2010:
        if "insufficient balance" in msg.lower():
            mapped = ErrorCode.INSUFFICIENT_BALANCE
        elif "immediately match" in msg.lower():
            mapped = ErrorCode.WOULD_TAKE
        elif "duplicate" in msg.lower():
            mapped = ErrorCode.DUPLICATE_ORDER
        else:
            mapped = ErrorCode.VENUE_REJECTED
    if mapped is None:
        mapped = ErrorCode.BAD_REQUEST if -1199 <= code <= -1100 else ErrorCode.VENUE_REJECTED
    return BotError(mapped, msg, retry_after_ms=retry_after_ms, venue_code=code)
