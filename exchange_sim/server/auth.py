"""Request signing as Binance Spot checks it: API keys, HMAC-SHA256 signatures and the recvWindow.

REST: the signed payload is the query string concatenated with the form body exactly as received, with the
``signature=...`` parameter removed (it may be in either part; Binance's clients send it last). WebSocket API:
the payload is the request's params except ``signature``, sorted by name, joined as ``k=v&k=v``.

Checks, in Binance's order: API key present (-2014) and known (-2015), signature present (-1102) and valid
(-1022), then the timestamp: ``recvWindow`` (default 5000 ms) at most 60000 (-1131), and the request is
accepted only if ``timestamp < serverTime + 1000`` and ``serverTime - timestamp <= recvWindow`` (-1021).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from exchange_sim.engine.types import AccountId
from exchange_sim.server import errors
from exchange_sim.server.config import AccountConfig
from exchange_sim.server.errors import ApiError
from exchange_sim.server.params import Params

DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60_000
FUTURE_TOLERANCE_MS = 1000


def sign(secret: str, payload: str) -> str:
    """Hex HMAC-SHA256 of ``payload`` keyed by ``secret`` (what clients put in ``signature``)."""
    return hmac.digest(secret.encode(), payload.encode(), "sha256").hex()


def strip_signature(raw: str) -> str:
    """``raw`` without its ``signature=...`` parameter, every other byte untouched."""
    if "signature=" not in raw:
        return raw
    return "&".join([part for part in raw.split("&") if not part.startswith("signature=")])


def rest_payload(query: str, body: str) -> str:
    """The bytes a REST signature covers: query string + body as received, minus the signature."""
    return strip_signature(query) + strip_signature(body)


def ws_payload(params: Mapping[str, str]) -> str:
    """The bytes a WebSocket API signature covers: params but ``signature``, sorted, ``k=v`` joined by ``&``."""
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")


@dataclass(frozen=True, slots=True)
class Principal:
    """The account a signed request acts for."""

    account: AccountId
    config: AccountConfig


class KeyStore:
    """API key -> account, and the checks of a signed request."""

    def __init__(self, accounts: tuple[AccountConfig, ...]) -> None:
        self._by_key = {a.api_key: a for a in accounts}

    def principal(self, api_key: str | None) -> Principal:
        if not api_key:
            raise ApiError(errors.BAD_API_KEY_FMT, "API-key format invalid.")
        config = self._by_key.get(api_key)
        if config is None:
            raise ApiError(errors.REJECTED_MBX_KEY, "Invalid API-key, IP, or permissions for action.")
        return Principal(AccountId(config.name), config)

    def verify(self, api_key: str | None, params: Params, payload: str, server_ms: int) -> Principal:
        """Check key, signature and timestamp of a signed request; return who sent it."""
        principal = self.principal(api_key)
        signature = params.opt_text("signature")
        if signature is None:
            raise errors.missing("signature")
        expected = sign(principal.config.secret, payload)
        # bytes, not str: compare_digest refuses non-ASCII text with a TypeError (a 500, a dropped socket)
        if not hmac.compare_digest(expected.encode(), signature.lower().encode("utf-8", "surrogatepass")):
            raise ApiError(errors.INVALID_SIGNATURE, "Signature for this request is not valid.")
        check_timestamp(params, server_ms)
        return principal


def check_timestamp(params: Params, server_ms: int) -> None:
    timestamp = params.integer("timestamp")
    recv_window = params.opt_integer("recvWindow")
    window = DEFAULT_RECV_WINDOW_MS if recv_window is None else recv_window
    if not 0 < window <= MAX_RECV_WINDOW_MS:
        raise ApiError(errors.BAD_RECV_WINDOW, "recvWindow must be less than 60000")
    if timestamp >= server_ms + FUTURE_TOLERANCE_MS:
        raise ApiError(errors.INVALID_TIMESTAMP, "Timestamp for this request was 1000ms ahead of the server's time.")
    if server_ms - timestamp > window:
        raise ApiError(errors.INVALID_TIMESTAMP, "Timestamp for this request is outside of the recvWindow.")
