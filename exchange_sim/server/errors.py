"""Binance error answers of the wire server: ``{"code": N, "msg": "..."}`` with the right HTTP status.

``ApiError`` is raised anywhere in request handling and rendered by the error middleware (``app.py``).
``from_engine`` maps the matching engine's ``EngineError`` to its HTTP status, and a ``VenueHttpError`` (an
HTTP-level failure a ``VenueClient``'s fault injector raises: 429/418 -1003, 503 -1007/-1001, 403) to that
status with its ``Retry-After`` header. Statuses follow Binance Spot:
4XX malformed or refused requests (401 for API-key problems), 403 WAF block, 409 cancelReplace half success,
418 IP ban, 429 rate limit, 5XX execution status unknown.
"""

from __future__ import annotations

from collections.abc import Mapping

from exchange_sim.engine.types import EngineError, ErrorCode
from exchange_sim.faults.errors import VenueHttpError

UNKNOWN = -1000
DISCONNECTED = -1001
TOO_MANY_REQUESTS = -1003
UNEXPECTED_RESPONSE = -1006
TIMEOUT = -1007
SERVER_BUSY = -1008
TOO_MANY_ORDERS = -1015
UNSUPPORTED_OPERATION = -1020
INVALID_TIMESTAMP = -1021
INVALID_SIGNATURE = -1022
ILLEGAL_CHARS = -1100
TOO_MANY_PARAMETERS = -1101
MANDATORY_PARAM = -1102
UNKNOWN_PARAM = -1104
BAD_RECV_WINDOW = -1131
BAD_API_KEY_FMT = -2014
REJECTED_MBX_KEY = -2015

_STATUS_BY_CODE: Mapping[int, int] = {
    BAD_API_KEY_FMT: 401,
    REJECTED_MBX_KEY: 401,
    int(ErrorCode.CANCEL_REPLACE_PARTIAL): 409,
}


class ApiError(Exception):
    """A refused request: HTTP ``status``, Binance ``code`` and ``msg``, extra response headers."""

    def __init__(self, code: int, msg: str, *, status: int | None = None,
                 headers: Mapping[str, str] | None = None, body: object | None = None) -> None:
        super().__init__(f"{code} {msg}")
        self.code = code
        self.msg = msg
        self.status = status if status is not None else _STATUS_BY_CODE.get(code, 400)
        self.headers = dict(headers or {})
        self.body = body  # a full JSON body instead of {code, msg} (cancelReplace's "data")

    def to_json(self) -> object:
        return self.body if self.body is not None else {"code": self.code, "msg": self.msg}


def from_engine(error: EngineError) -> ApiError:
    """An engine reject as Binance answers it; a ``VenueHttpError`` keeps its HTTP status and Retry-After."""
    if isinstance(error, VenueHttpError):
        headers = {} if error.retry_after_s is None else {"Retry-After": str(error.retry_after_s)}
        return ApiError(int(error.code), error.msg, status=error.http_status, headers=headers)
    return ApiError(int(error.code), error.msg)


def missing(param: str) -> ApiError:
    return ApiError(MANDATORY_PARAM, f"Mandatory parameter '{param}' was not sent, was empty/null, or malformed.")


DECIMAL_RANGE = "^([0-9]{1,20})(\\.[0-9]{1,20})?$"
SYMBOL_RANGE = "^[A-Z0-9-_.]{1,20}$"


def illegal(param: str, legal_range: str = DECIMAL_RANGE) -> ApiError:
    return ApiError(ILLEGAL_CHARS, f"Illegal characters found in parameter '{param}'; legal range is "
                                   f"'{legal_range}'.")


def invalid_value(param: str) -> ApiError:
    return ApiError(int(ErrorCode.INVALID_PARAMETER), f"Invalid data sent for a parameter '{param}'.")


def bad_symbol() -> ApiError:
    return ApiError(int(ErrorCode.BAD_SYMBOL), "Invalid symbol.")


def unknown_outcome() -> ApiError:
    """A 5XX: the request may or may not have been executed (DESIGN section 5)."""
    return ApiError(TIMEOUT, "Timeout waiting for response from backend server. Send status unknown; "
                             "execution status unknown.", status=503)
