"""The connector's cheaper paths (issue 17, part 4) give what the general paths give.

Each fast path - plain decimals read in integer arithmetic and remembered per text, integer texts remembered per
count, one plainness check for all signed parameters, one-shot HMAC, the form split without ``parse_qsl``, the
single-reader inbox - is checked against the general computation it replaces, on seeded random values.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import random
from decimal import ROUND_FLOOR, Decimal
from urllib.parse import parse_qsl, quote

import pytest

from bot.connectors.binance import decimals, signing, streams, wire
from bot.connectors.binance.config import SecretStr
from exchange_sim.engine.types import atoms_to_decimal
from exchange_sim.server import auth, params
from exchange_sim.server import wire as server_wire
from tests.unit.binance_fixtures import SYMBOL_ENTRY, order_json

INFO = wire.symbol_info(SYMBOL_ENTRY)


def _texts(rng: random.Random, count: int) -> list[str]:
    """Plain decimals as Binance writes them (0-8 places), plus some repeated, as a depth stream repeats prices."""
    out = []
    for _ in range(count):
        places = rng.randint(0, 8)
        whole = str(rng.randint(0, 10 ** rng.randint(1, 12)))
        out.append(whole + ("." + "".join(rng.choice("0123456789") for _ in range(places)) if places else ""))
    return out + out[: count // 4]


def test_plain_decimals_read_as_decimal_reads_them_before_and_after_they_are_remembered() -> None:
    rng = random.Random(17)
    for text in _texts(rng, 3000):
        exact = Decimal(text)
        for _ in range(2):  # the second read comes from the memo
            assert wire.atoms(text) == int(exact * 10**8)
            assert wire.steps(text, INFO.tick_size) == int((exact / INFO.tick_size).to_integral_value(ROUND_FLOOR))
            assert wire.steps(text, INFO.step_size) == int((exact / INFO.step_size).to_integral_value(ROUND_FLOOR))


@pytest.mark.parametrize("text", ["1e3", "-1.5", "１２", "0.123456789", "", "1.", ".5", " 1"])
def test_texts_outside_the_plain_form_are_not_remembered_and_go_through_decimal(text: str) -> None:
    assert decimals.plain_units(text) is None
    assert text not in decimals.UNITS_MEMO


def test_the_units_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decimals, "UNITS_MEMO_MAX", 8)
    decimals.UNITS_MEMO.clear()
    for value in range(20):
        assert decimals.plain_units(f"{value}.5") == value * 10**8 + 50_000_000
        assert len(decimals.UNITS_MEMO) <= 8


def test_depth_levels_and_a_missing_field() -> None:
    event = {"e": "depthUpdate", "E": 5, "s": "BTCUSDT", "U": 1, "u": 2,
             "b": [["60000.01", "0.00100"], ["60000.01", "0"]], "a": [["1e2", "0.5"]]}
    update = wire.depth_update(INFO, event)
    assert [(level.price_ticks, level.qty_lots) for level in update.bids] == [(6_000_001, 100), (6_000_001, 0)]
    assert [(level.price_ticks, level.qty_lots) for level in update.asks] == [(10_000, 50_000)]
    for key in ("U", "b", "E"):
        with pytest.raises(wire.WireError, match=f"missing field '{key}'"):
            wire.depth_update(INFO, {k: v for k, v in event.items() if k != key})
    with pytest.raises(wire.WireError, match="not a number"):  # an unhashable level value: the general path
        wire.depth_update(INFO, {**event, "a": [[["60000"], "1"]]})
    with pytest.raises(TypeError):  # present but malformed: the reader's own error, not "missing"
        wire.depth_update(INFO, {**event, "U": None})


def test_orders_keep_their_errors_and_zero_price() -> None:
    market = wire.venue_order(INFO, order_json(price="0.00000000"))
    assert market.price_ticks is None
    assert wire.venue_order(INFO, order_json()).price_ticks is not None
    with pytest.raises(wire.WireError, match="unsupported side"):
        wire.venue_order(INFO, order_json(side="SIDEWAYS"))
    body = order_json()
    del body["origQty"]
    with pytest.raises(wire.WireError, match="missing field 'origQty'"):
        wire.venue_order(INFO, body)


def test_server_texts_equal_decimal_formatting() -> None:
    rng = random.Random(18)
    spec_rows = [(rng.randint(0, 10**9), rng.randint(0, 10**9)) for _ in range(2000)]
    for value in [0, 1, -1, 10**8, -(10**8) - 1, *(r[0] * r[1] * rng.choice((1, -1)) for r in spec_rows)]:
        assert server_wire.atoms(value) == f"{atoms_to_decimal(value):.8f}"
        assert server_wire.atoms(value) == server_wire.atoms(value)  # remembered: the same text


def test_the_text_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_wire, "_TEXT_MEMO_MAX", 4)
    server_wire._TEXT_MEMO.clear()
    assert [server_wire.atoms(v) for v in range(10)][-1] == "0.00000009"
    assert len(server_wire._TEXT_MEMO) <= 4


@pytest.mark.parametrize("pairs", [
    [("symbol", "BTCUSDT"), ("quantity", "0.01000"), ("newClientOrderId", "mm-1_a.b~c")],
    [("symbol", "BTC USDT"), ("price", "1")],  # a space: percent-encoded
    [("a", "x=y"), ("b", "p&q")],  # separators inside values: each part encoded
    [("k=", "v")],
    [],
])
def test_encode_params_equals_encoding_every_part(pairs: list[tuple[str, str]]) -> None:
    expected = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in pairs)
    assert signing.encode_params(pairs) == expected


def test_one_shot_hmac_equals_the_hmac_object() -> None:
    for payload in ("", "symbol=BTCUSDT&timestamp=1", "é&=" * 50):
        expected = hmac.new(b"secret", payload.encode(), hashlib.sha256).hexdigest()
        assert signing.sign(SecretStr("secret"), payload) == expected
        assert auth.sign("secret", payload) == expected


@pytest.mark.parametrize("text", ["a=1&b=&c=x.y", "symbol=BTCUSDT", "a=1&a=2", "x=%20y", "k=v+w"])
def test_parse_form_equals_parse_qsl(text: str) -> None:
    assert params.parse_form(text) == parse_qsl(text, keep_blank_values=True, strict_parsing=True)


def test_strip_signature_keeps_every_other_byte() -> None:
    assert auth.strip_signature("a=1&signature=ff&b=%202") == "a=1&b=%202"
    assert auth.strip_signature("a=1") == "a=1"


def test_inbox_wakes_its_oldest_live_waiter_and_clears() -> None:
    async def main() -> None:
        inbox: streams.Inbox[int] = streams.Inbox()
        first, second = inbox.waiter(), inbox.waiter()
        first.cancel()  # a reader cancelled while waiting: skipped by the next put
        inbox.put(1)
        assert second.done() and list(inbox.items) == [1]
        third = inbox.waiter()
        inbox.put(2)
        assert third.done() and len(inbox) == 2
        assert inbox.clear() == 2 and len(inbox) == 0
        inbox.put(3)  # no waiter left: the item waits for the reader
        assert list(inbox.items) == [3]

    asyncio.run(main())


def test_account_position_rows_and_a_missing_field() -> None:
    event = {"e": "outboundAccountPosition", "E": 9, "u": 8,
             "B": [{"a": "BTC", "f": "1.5", "l": "0"}, {"a": "USDT", "f": "10", "l": "2.25"}]}
    updates = wire.account_position(event)
    assert [(u.asset, u.balance.free_atoms, u.balance.locked_atoms, u.time_ms) for u in updates] == [
        ("BTC", 150_000_000, 0, 8), ("USDT", 1_000_000_000, 225_000_000, 8)]
    with pytest.raises(wire.WireError, match="missing field 'l'"):
        wire.account_position({**event, "B": [{"a": "BTC", "f": "1"}]})
