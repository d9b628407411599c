"""REST client: one request to a Binance-compatible venue, budgeted, signed, bounded and classified.

``RestClient.request`` admits the request through the ``WeightLimiter``, re-checks a write's guard
(``bot.core.sending``) after admission (the ``Transport`` checks again right before it leaves), signs it
(``timestamp``, ``recvWindow``, ``signature`` last, key in ``X-MBX-APIKEY``), hands the URL with every parameter
in the query string exactly as signed to the transport, and runs the whole exchange (connect, send, read the
body) under ``asyncio.timeout``. A reply's ``payload``, when the transport decoded it already, replaces
``json.loads``; everything after (classification, the callers' field parsing) runs the same.
Classification:

======================================  ===========================================================
what happened                           ``BotError``
======================================  ===========================================================
429 (+ ``Retry-After``)                 ``RATE_LIMITED``; the limiter blocks every request until it expires
418 (+ ``Retry-After``)                 ``IP_BANNED``, not recoverable; blocked likewise
403 (WAF); 5xx with -1001/-1008         ``VENUE_UNAVAILABLE`` (not processed: a read is retried, a mutation may be
                                        sent again by its caller)
4xx ``{"code", "msg"}``                 ``venue_error(code, msg)`` (rejects are fatal; -1021 is handled by
                                        the caller: resync once, retry once)
5xx, -1006/-1007, timeout,              mutation: ``UNKNOWN_OUTCOME`` (never retried here: the order manager
``ConnectionLost``, a bad 2xx body      queries by client order id); read: ``NETWORK``, retried
``ConnectFailed`` (nothing was sent)    ``NETWORK`` (recoverable; a read is retried, a mutation is not)
======================================  ===========================================================

Idempotent reads are retried up to ``read_attempts`` times with exponential backoff and jitter, only for
``NETWORK``/``VENUE_UNAVAILABLE``; rate limits and rejects are never retried here.

Secrets: messages carry the method, the path, the status and the venue's message only: never the query (with
its signature), the headers (with the API key) or the secret; the transport's exceptions are not chained.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.connectors.binance.config import BinanceConfig, Credentials
from bot.connectors.binance.limiter import Priority, WeightLimiter
from bot.connectors.binance.signing import encode_params, signed_query
from bot.connectors.binance.transport import (
    NOT_DECODED,
    AiohttpTransport,
    CheckedConnector,
    ConnectFailed,
    ConnectionLost,
    HttpReply,
    Transport,
)
from bot.core.errors import BotError, ErrorCode, venue_error
from bot.core.sending import check_before_send

__all__ = ["Answer", "CheckedConnector", "Endpoint", "Params", "RestClient"]

log = logging.getLogger("bot.connectors.binance")

Params = Sequence[tuple[str, str]]
_RETRIED = frozenset({ErrorCode.NETWORK, ErrorCode.VENUE_UNAVAILABLE})
NOT_PROCESSED_CODES = frozenset({-1001, -1008})  # a 5xx with these codes was refused before doing anything


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """One REST operation: its method, path under ``/v3``, weight, priority, and whether it mutates."""

    method: str
    path: str
    weight: int
    priority: Priority = Priority.READ
    signed: bool = False
    mutating: bool = False
    orders: int = 0  # new orders counted against ORDERS per 10 s


@dataclass(frozen=True, slots=True)
class Answer:
    """A 2xx answer, or a 4xx answer the caller asked to see (``accept_codes``)."""

    status: int
    body: Any


class RestClient:
    """REST requests to ``config.endpoints.rest_url`` over ``transport`` (an ``AiohttpTransport`` of its own when
    none is given; closed by ``close()`` only then)."""

    def __init__(
        self,
        config: BinanceConfig,
        limiter: WeightLimiter,
        *,
        credentials: Credentials | None,
        timestamp_ms: Callable[[], int],
        rng: random.Random,
        transport: Transport | None = None,
    ) -> None:
        self._config = config
        self._limiter = limiter
        self._credentials = credentials
        self._timestamp_ms = timestamp_ms
        self._rng = rng
        self._owns_transport = transport is None
        self.transport: Transport = AiohttpTransport() if transport is None else transport
        self._closed = False

    async def close(self) -> None:
        """Send nothing more (a request after this raises ``SHUTTING_DOWN``, even on a shared transport)."""
        self._closed = True
        if self._owns_transport:
            await self.transport.close()

    def __repr__(self) -> str:
        return f"RestClient({self._config.endpoints.rest_url!r}, credentials={self._credentials!r})"

    async def request(
        self, endpoint: Endpoint, params: Params = (), *, accept_codes: frozenset[int] = frozenset()
    ) -> Answer:
        """Send ``endpoint`` (retrying idempotent reads on transient errors); raise a classified ``BotError``.

        A 4xx answer whose venue code is in ``accept_codes`` is returned instead of raised (cancelReplace's
        -2021/-2022 half successes).
        """
        attempts = 1 if endpoint.mutating else self._config.read_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await self._once(endpoint, params, accept_codes)
            except BotError as error:
                if attempt >= attempts or error.code not in _RETRIED:
                    raise
                delay = min(self._config.backoff_max_s, self._config.backoff_base_s * 2 ** (attempt - 1))
                delay *= 0.5 + self._rng.random()
                log.info("%s %s retry %d in %.3fs after %s", endpoint.method, endpoint.path, attempt, delay,
                         error.code.value)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _once(self, endpoint: Endpoint, params: Params, accept_codes: frozenset[int]) -> Answer:
        if self._closed:  # a task that outlived its instance: its limiter no longer knows the venue's state
            raise BotError(ErrorCode.SHUTTING_DOWN, f"{endpoint.method} {endpoint.path}: the connector is closed")
        ticket = await self._limiter.acquire(endpoint.weight, endpoint.priority, orders=endpoint.orders)
        if endpoint.mutating:
            check_before_send()  # still wanted? a guard may have fired while the limiter held the request
        query, headers = self._build(endpoint, params)
        url = f"{self._config.endpoints.rest_url}/v3/{endpoint.path}" + (f"?{query}" if query else "")
        what = f"{endpoint.method} {endpoint.path}"
        try:
            async with asyncio.timeout(self._config.request_timeout_s):
                reply = await self.transport.request(endpoint.method, url, headers)
        except TimeoutError:
            raise self._lost(endpoint, f"{what}: no answer within {self._config.request_timeout_s}s") from None
        except ConnectFailed as error:  # nothing was sent
            raise BotError(ErrorCode.NETWORK, f"{what}: cannot connect ({error})") from None
        except ConnectionLost as error:
            raise self._lost(endpoint, f"{what}: connection failed ({error})") from None
        self._limiter.observe(reply.headers, ticket)
        return self._classify(endpoint, what, reply, accept_codes)

    def _build(self, endpoint: Endpoint, params: Params) -> tuple[str, dict[str, str]]:
        headers: dict[str, str] = {}
        if not endpoint.signed:
            return encode_params(params), headers
        if self._credentials is None:
            raise BotError(ErrorCode.AUTH_FAILED, f"{endpoint.path} needs credentials; none configured",
                           recoverable=False)
        signed = [*params, ("recvWindow", str(self._config.recv_window_ms)), ("timestamp", str(self._timestamp_ms()))]
        headers["X-MBX-APIKEY"] = self._credentials.api_key
        return signed_query(signed, self._credentials.api_secret), headers

    def _lost(self, endpoint: Endpoint, message: str) -> BotError:
        """The request may have reached the venue: unknown for a mutation, a retryable NETWORK for a read."""
        if endpoint.mutating:
            return BotError(ErrorCode.UNKNOWN_OUTCOME, f"{message}; the venue may have executed it")
        return BotError(ErrorCode.NETWORK, message, recoverable=True)

    def _classify(self, endpoint: Endpoint, what: str, reply: HttpReply, accept_codes: frozenset[int]) -> Answer:
        status = reply.status
        if status in (418, 429):
            seconds = self._limiter.block(_seconds(reply.headers.get("Retry-After")), banned=status == 418)
            retry_ms = round(seconds * 1000)
            log.warning("%s: HTTP %d, nothing is sent for %.0f s", what, status, seconds)
            if status == 418:
                raise BotError(ErrorCode.IP_BANNED, f"{what}: IP banned (HTTP 418)", recoverable=False,
                               retry_after_ms=retry_ms)
            raise BotError(ErrorCode.RATE_LIMITED, f"{what}: rate limited (HTTP 429)", retry_after_ms=retry_ms)
        body = _json(reply.text) if reply.payload is NOT_DECODED else reply.payload
        if 200 <= status < 300:
            if body is None:
                raise self._lost(endpoint, f"{what}: HTTP {status} with a malformed body")
            return Answer(status, body)
        if status >= 500:
            code = body.get("code") if isinstance(body, dict) else None
            if code in NOT_PROCESSED_CODES:  # "Service Unavailable." / "unable to process": a failure, resend
                raise BotError(ErrorCode.VENUE_UNAVAILABLE, f"{what}: HTTP {status} {code} (not processed)",
                               venue_code=code)
            raise self._lost(endpoint, f"{what}: HTTP {status}")
        if status == 403:
            raise BotError(ErrorCode.VENUE_UNAVAILABLE, f"{what}: HTTP 403 (blocked by the venue's firewall)")
        if not isinstance(body, dict) or not isinstance(body.get("code"), int):
            raise BotError(ErrorCode.VENUE_REJECTED, f"{what}: HTTP {status} without an error code", recoverable=False)
        code, msg = body["code"], str(body.get("msg", ""))
        if code in accept_codes:
            return Answer(status, body)
        error = venue_error(code, f"{what}: {msg}")
        if error.outcome_unknown:  # -1006 / -1007: the venue may have executed it
            raise self._lost(endpoint, f"{what}: {code} {msg}")
        raise error


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
