"""JSON logs: one object per line with error code and correlation ids; secrets never reach the output."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot.core.errors import BotError, ErrorCode
from bot.metrics.correlation import correlate
from bot.metrics.logs import REDACTED, JsonFormatter, PlainFormatter, RedactingFilter, configure_json_logging
from bot.metrics.logs_events import iso_utc
from bot.metrics.tracing import BotTracer

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"  # Binance's documented sample key
SIGNATURE = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"  # its documented signature
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"  # Binance's documented sample secret


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    logger = logging.getLogger(f"test.metrics.logs.{id(object())}")
    logger.propagate = False
    stream = io.StringIO()
    handler = configure_json_logging(logger, logging.StreamHandler(stream), secrets=["my-own-token-1234"],
                                     clock_ms=lambda: 1_700_000_000_123)
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_record_is_one_json_object_with_fixed_leading_fields(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.info("placed %d orders", 3, extra={"venue": "sim", "qty_lots": 5})
    [line] = lines(stream)
    assert line == {"ts": "2023-11-14T22:13:20.123Z", "level": "INFO", "logger": logger.name, "msg": "placed 3 orders",
                    "venue": "sim", "qty_lots": 5}
    assert list(line)[:4] == ["ts", "level", "logger", "msg"]


def test_the_error_code_comes_from_extra_or_from_a_bot_error(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    logger.warning("backing off", extra={"code": ErrorCode.RATE_LIMITED})
    try:
        raise BotError(ErrorCode.WOULD_TAKE, "post-only would cross")
    except BotError:
        logger.exception("order refused")
    first, second = lines(stream)
    assert first["code"] == "RATE_LIMITED"
    assert second["code"] == "WOULD_TAKE"
    assert "post-only would cross" in str(second["exc"])


def test_cycle_and_order_ids_come_from_the_context(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    with BotTracer().cycle("BTCUSDT", 12), correlate(client_order_id="mm-99"):
        logger.info("sending")
    logger.info("idle")
    sending, idle = lines(stream)
    assert (sending["symbol"], sending["cycle_id"], sending["client_order_id"]) == ("BTCUSDT", 12, "mm-99")
    assert not {"symbol", "cycle_id", "client_order_id"} & set(idle)


def test_a_record_can_override_a_context_id(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = logged
    with correlate(symbol="BTCUSDT"):
        logger.info("other symbol", extra={"symbol": "ETHUSDT"})
    assert lines(stream)[0]["symbol"] == "ETHUSDT"


@pytest.mark.parametrize(
    "message",
    [
        f"signing with {SECRET}",
        f"GET /api/v3/order?symbol=BTCUSDT&timestamp=1&signature={SIGNATURE}",
        f"headers {{'X-MBX-APIKEY': '{API_KEY}'}}",
        'body {"apiKey": "abc123def456", "secret": "hunter2hunter2"}',
        "api_key=my-own-token-1234 secret=shortish-secret",
    ],
)
def test_secrets_are_redacted(logged: tuple[logging.Logger, io.StringIO], message: str) -> None:
    logger, stream = logged
    logger.info(message)
    out = stream.getvalue()
    for leaked in (SECRET, API_KEY, "c8db56825ae71d6d", "abc123def456", "hunter2", "my-own-token-1234",
                   "shortish-secret"):
        assert leaked not in out
    assert REDACTED in out


def test_secrets_in_arguments_extra_fields_and_tracebacks_are_redacted(
    logged: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = logged
    try:
        raise RuntimeError(f"auth failed for secret={SECRET}")
    except RuntimeError:
        logger.exception("key %s refused", API_KEY, extra={"request": f"apiKey={API_KEY}"})
    out = stream.getvalue()
    assert SECRET not in out and API_KEY not in out
    assert lines(stream)[0]["msg"] == f"key {REDACTED} refused"


def test_ordinary_text_and_digests_survive_redaction() -> None:
    redact = RedactingFilter(["my-own-token-1234"]).redact
    digest = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15dc35ac6b3a1c0"  # lowercase hex: not key-shaped
    text = f"BTCUSDT cycle 12 placed 3 orders, event log digest {digest}"
    assert redact(text) == text


def test_an_unformattable_message_does_not_leak_its_arguments() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "value %d", (SECRET,), None)
    RedactingFilter().filter(record)
    assert SECRET not in record.getMessage()


def test_without_a_clock_the_timestamp_is_the_records_creation_time() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hi", None, None)
    assert json.loads(JsonFormatter().format(record))["ts"] == iso_utc(round(record.created * 1000))


def test_a_plain_record_is_one_line_with_an_iso_timestamp_and_the_extra_fields() -> None:
    record = logging.LogRecord("bot.app", logging.WARNING, __file__, 1, "HARD guard: %s", ("LATENCY",), None)
    record.code = "HALTED"
    line = PlainFormatter(clock_ms=lambda: 1_700_000_000_123).format(record)
    assert line == "2023-11-14T22:13:20.123Z WARNING bot.app: HARD guard: LATENCY code=HALTED"


def test_plain_logs_are_redacted_too() -> None:
    logger = logging.getLogger(f"test.metrics.logs.plain.{id(object())}")
    logger.propagate = False
    stream = io.StringIO()
    handler = configure_json_logging(logger, logging.StreamHandler(stream), secrets=[SECRET], json_lines=False)
    try:
        logger.info("secret is %s", SECRET)
    finally:
        logger.removeHandler(handler)
    assert SECRET not in stream.getvalue() and REDACTED in stream.getvalue()
