"""Signing, API keys and recvWindow of the wire server (exchange_sim.server.auth)."""

from __future__ import annotations

import pytest

from exchange_sim.server import DEMO_ACCOUNT, DEMO_API_KEY, DEMO_SECRET
from exchange_sim.server.auth import KeyStore, rest_payload, sign, strip_signature, ws_payload
from exchange_sim.server.errors import ApiError
from exchange_sim.server.params import Params, parse_form

VECTOR_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
VECTOR_PAYLOAD = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000"
                  "&timestamp=1499827319559")
VECTOR_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_binance_documented_test_vector() -> None:
    assert sign(VECTOR_SECRET, VECTOR_PAYLOAD) == VECTOR_SIGNATURE


def test_payload_is_query_then_body_as_received_without_signature() -> None:
    query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
    body = f"quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559&signature={VECTOR_SIGNATURE}"
    payload = rest_payload(query, body)
    assert payload == "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTCquantity=1&price=0.1&recvWindow=5000" \
                      "&timestamp=1499827319559"
    assert strip_signature(f"a=1&signature={VECTOR_SIGNATURE}") == "a=1"


def test_ws_payload_sorts_params_and_leaves_out_the_signature() -> None:
    assert ws_payload({"timestamp": "2", "apiKey": "k", "signature": "x", "recvWindow": "5000"}) == \
        "apiKey=k&recvWindow=5000&timestamp=2"


def _verify(query: str, *, key: str | None = DEMO_API_KEY, server_ms: int = 1_000_000) -> None:
    KeyStore((DEMO_ACCOUNT,)).verify(key, Params(parse_form(query)), strip_signature(query), server_ms)


def _signed(query: str, secret: str = DEMO_SECRET) -> str:
    return f"{query}&signature={sign(secret, query)}"


def test_a_valid_request_names_its_account() -> None:
    principal = KeyStore((DEMO_ACCOUNT,)).verify(
        DEMO_API_KEY, Params(parse_form(_signed("timestamp=999000"))), "timestamp=999000", 1_000_000)
    assert principal.account == DEMO_ACCOUNT.name


@pytest.mark.parametrize(("query", "key", "code"), [
    (_signed("timestamp=999000"), None, -2014),
    (_signed("timestamp=999000"), "nope", -2015),
    ("timestamp=999000", DEMO_API_KEY, -1102),
    (_signed("timestamp=999000", secret="wrong"), DEMO_API_KEY, -1022),
    (_signed("timestamp=1001000"), DEMO_API_KEY, -1021),  # 1000 ms ahead
    (_signed("timestamp=994999"), DEMO_API_KEY, -1021),  # older than the 5000 ms default window
    (_signed("timestamp=990000&recvWindow=60001"), DEMO_API_KEY, -1131),
])
def test_refused_requests_get_binance_codes(query: str, key: str | None, code: int) -> None:
    with pytest.raises(ApiError) as info:
        _verify(query, key=key)
    assert info.value.code == code


def test_recv_window_widens_the_accepted_past() -> None:
    _verify(_signed("timestamp=990000&recvWindow=10000"))
    _verify(_signed("timestamp=1000999"))  # just under serverTime + 1000


def test_key_errors_are_http_401_and_signature_errors_400() -> None:
    with pytest.raises(ApiError) as info:
        _verify(_signed("timestamp=999000"), key="nope")
    assert info.value.status == 401
    with pytest.raises(ApiError) as info:
        _verify(_signed("timestamp=999000", secret="wrong"))
    assert info.value.status == 400
