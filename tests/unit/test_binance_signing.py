"""Binance signing and credentials: the documented HMAC vector, the exact string signed, secrets never shown."""

from __future__ import annotations

import pickle

import pytest

from bot.connectors.binance.config import BinanceConfig, Credentials, Endpoints, SecretStr
from bot.connectors.binance.signing import encode_params, sign, signed_query, ws_payload
from bot.core.errors import BotError, ErrorCode
from tests.unit.binance_fixtures import API_KEY, API_SECRET

VECTOR_PAYLOAD = ("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000"
                  "&timestamp=1499827319559")
VECTOR_SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"


def test_binance_documented_vector() -> None:
    assert sign(SecretStr(API_SECRET), VECTOR_PAYLOAD) == VECTOR_SIGNATURE


def test_signed_query_signs_exactly_what_is_sent_with_signature_last() -> None:
    params = [tuple(pair.split("=")) for pair in VECTOR_PAYLOAD.split("&")]
    query = signed_query(params, SecretStr(API_SECRET))  # type: ignore[arg-type]
    assert query == f"{VECTOR_PAYLOAD}&signature={VECTOR_SIGNATURE}"


def test_values_are_percent_encoded_before_signing() -> None:
    assert encode_params([("newClientOrderId", "a b/c"), ("symbol", "BTCUSDT")]) == (
        "newClientOrderId=a%20b%2Fc&symbol=BTCUSDT")


def test_ws_payload_sorts_params_by_name() -> None:
    assert ws_payload({"timestamp": "2", "apiKey": "k", "recvWindow": "5000"}) == (
        "apiKey=k&recvWindow=5000&timestamp=2")


def test_secret_str_never_shows_the_secret() -> None:
    secret = SecretStr(API_SECRET)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", f"{[secret]}"):
        assert API_SECRET not in text
    assert secret.get_secret_value() == API_SECRET
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_credentials_come_from_the_environment_and_repr_masks_them() -> None:
    credentials = Credentials.from_env({"MMBOT_API_KEY": API_KEY, "MMBOT_API_SECRET": API_SECRET})
    assert credentials.api_secret.get_secret_value() == API_SECRET
    assert API_KEY not in repr(credentials) and API_SECRET not in repr(credentials) and API_SECRET not in str(
        credentials)


def test_missing_credentials_name_the_variables_not_the_values() -> None:
    with pytest.raises(BotError) as caught:
        Credentials.from_env({"MMBOT_API_KEY": API_KEY})
    assert caught.value.code is ErrorCode.CONFIG_INVALID and "MMBOT_API_SECRET" in str(caught.value)
    assert API_KEY not in str(caught.value)


def test_endpoints_per_venue() -> None:
    assert Endpoints.for_venue("local", port=9000).rest_url == "http://127.0.0.1:9000/api"
    assert Endpoints.for_venue("testnet").ws_api_url == "wss://ws-api.testnet.binance.vision/ws-api/v3"
    assert BinanceConfig.for_venue("mainnet").endpoints.rest_url == "https://api.binance.com/api"


def test_config_rejects_unknown_fields_and_bad_values() -> None:
    endpoints = Endpoints.local()
    with pytest.raises(TypeError):
        BinanceConfig(endpoints=endpoints, colour="red")  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        BinanceConfig(endpoints=endpoints, recv_window_ms=60_001)
