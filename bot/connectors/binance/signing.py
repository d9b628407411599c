"""HMAC-SHA256 request signing as Binance specifies it (hex digest keyed by the API secret).

REST: the signature covers the exact query string sent (``encode_params``), and is appended last as
``&signature=<hex>``. WebSocket API: the signature covers the request's params sorted by name and joined as
``key=value&...`` (``ws_payload``). The secret never leaves ``SecretStr`` except into ``hmac.new``.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping, Sequence
from itertools import chain
from urllib.parse import quote

from bot.connectors.binance.config import SecretStr

Params = Sequence[tuple[str, str]]


def sign(secret: SecretStr, payload: str) -> str:
    """The hex HMAC-SHA256 of ``payload`` keyed by ``secret``."""
    return hmac.digest(secret.get_secret_value().encode(), payload.encode(), "sha256").hex()


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")  # what ``quote`` leaves as it is (RFC 3986 unreserved)


def _encode(text: str) -> str:
    return text if _UNRESERVED.fullmatch(text) else quote(text, safe="")


def encode_params(params: Params) -> str:
    """``k=v&k=v`` in the given order, percent-encoded (RFC 3986 unreserved characters kept; a text made only
    of them, as almost every Binance parameter is, is used as it is without calling ``quote``). When every key
    and value is plain (one check over all of them: their concatenation), the pairs are joined as they are."""
    if _UNRESERVED.fullmatch("".join(chain.from_iterable(params))):
        return "&".join(map("=".join, params))
    return "&".join(f"{_encode(key)}={_encode(value)}" for key, value in params)


def signed_query(params: Params, secret: SecretStr) -> str:
    """The query string to send: the encoded params, then ``signature`` over exactly that string."""
    query = encode_params(params)
    return f"{query}&signature={sign(secret, query)}"


def ws_payload(params: Mapping[str, str]) -> str:
    """The WebSocket API's signature payload: params sorted by name, ``key=value`` joined by ``&``."""
    return "&".join(f"{key}={params[key]}" for key in sorted(params))
