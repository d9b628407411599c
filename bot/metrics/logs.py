"""Structured logs: a JSON-lines formatter for stdlib ``logging`` and a filter that redacts secrets.

One line per record::

    {"ts": "2023-11-14T22:13:20.123Z", "level": "WARNING", "logger": "bot.execution", "msg": "...",
     "code": "RATE_LIMITED", "symbol": "BTCUSDT", "cycle_id": 42, "client_order_id": "mm-17", ...}

``code`` is the record's ``ErrorCode``: from ``extra={"code": ...}`` or from a ``BotError`` in ``exc_info``.
``symbol``, ``cycle_id`` and ``client_order_id`` come from ``bot.metrics.correlation`` (set by the tracer's
``cycle`` and by ``correlate``), unless the record sets them itself. Other ``extra`` fields are kept when they
are JSON scalars, or written with ``repr`` otherwise. ``ts`` is ISO-8601 UTC with milliseconds
(``bot.metrics.logs_events.iso_utc``) from an injected clock when one is given (virtual time in a simulation),
else from the record's creation time. Keys are in a fixed order, so the same records give the same bytes.
``PlainFormatter`` writes the same facts as one plain line (``<ts> <LEVEL> <logger>: <msg> code=... symbol=...``)
for a terminal or a CI log.

``RedactingFilter`` rewrites a record before any handler formats it: the exact secrets it was given, the value
of any ``signature=``/``apiKey=``/``secret=``-style parameter or JSON field, and 64-character mixed-case
alphanumeric tokens (the shape of Binance keys) become ``***``. Attach it to the handler (it then also covers
records from child loggers). It never raises: a record it cannot read is passed on with its message replaced.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable

from bot.core.errors import BotError
from bot.metrics.correlation import current
from bot.metrics.logs_events import iso_utc

__all__ = ["REDACTED", "JsonFormatter", "PlainFormatter", "RedactingFilter", "configure_json_logging"]

REDACTED = "***"

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_CORRELATION = ("symbol", "cycle_id", "client_order_id")
_SECRET_FIELDS = r"(?:signature|api[_-]?key|x-mbx-apikey|secret(?:[_-]?key)?|password|passphrase|token)"
_KV = re.compile(rf"(?i)(\b{_SECRET_FIELDS}\b\s*[=:]\s*)(?!\*\*\*)([^\s&,;}}\"']+)")
_JSON_KV = re.compile(rf"(?i)([\"']{_SECRET_FIELDS}[\"']\s*:\s*[\"'])([^\"']+)")
_KEY_SHAPED = re.compile(r"\b(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[0-9])[A-Za-z0-9]{64}\b")


class RedactingFilter(logging.Filter):
    """Replaces secrets in a record's message, arguments, extra string fields and exception text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # longest first, so a secret containing another is replaced whole; very short strings would mangle logs
        self._secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        text = _JSON_KV.sub(lambda m: m.group(1) + REDACTED, text)
        text = _KV.sub(lambda m: m.group(1) + REDACTED, text)
        return _KEY_SHAPED.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not leak its arguments either
            message = f"unformattable log message from {record.name}"
        record.msg, record.args = self.redact(message), None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str):
                setattr(record, key, self.redact(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


class _RecordFormatter(logging.Formatter):
    """What both formatters share: the record's fields (``_fields``) with ``clock_ms`` as the timestamp source, and
    the traceback text of a record that carries one."""

    def __init__(self, *, clock_ms: Callable[[], int] | None = None) -> None:
        super().__init__()
        self._clock_ms = clock_ms

    def _exc_text(self, record: logging.LogRecord) -> str | None:
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        return record.exc_text or None


class JsonFormatter(_RecordFormatter):
    """One JSON object per record (see the module docstring); ``clock_ms`` injects the timestamp source."""

    def format(self, record: logging.LogRecord) -> str:
        out = _fields(record, self._clock_ms)
        exc_text = self._exc_text(record)
        if exc_text:
            out["exc"] = exc_text
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out, ensure_ascii=False, default=repr)


class PlainFormatter(_RecordFormatter):
    """One plain line per record: ``<ts> <LEVEL> <logger>: <msg> key=value ...`` (the JSON record's facts)."""

    def format(self, record: logging.LogRecord) -> str:
        out = _fields(record, self._clock_ms)
        head = f"{out.pop('ts')} {out.pop('level')} {out.pop('logger')}: {out.pop('msg')}"
        line = " ".join([head, *(f"{k}={v}" for k, v in out.items())])
        exc_text = self._exc_text(record)
        return f"{line}\n{exc_text}" if exc_text else line


def _fields(record: logging.LogRecord, clock_ms: Callable[[], int] | None) -> dict[str, object]:
    """The record's fields in their fixed order: ts, level, logger, msg, code, correlation ids, extras."""
    ts_ms = clock_ms() if clock_ms is not None else round(record.created * 1000)
    out: dict[str, object] = {"ts": iso_utc(ts_ms), "level": record.levelname, "logger": record.name,
                              "msg": record.getMessage()}
    code = getattr(record, "code", None)
    exc = record.exc_info[1] if record.exc_info else None
    if code is None and isinstance(exc, BotError):
        code = exc.code
    if code is not None:
        out["code"] = str(code)
    ids = current()
    for key in _CORRELATION:
        value = getattr(record, key, None)
        if value is None:
            value = ids.get(key)
        if value is not None:
            out[key] = value if isinstance(value, int | str) else str(value)
    for key, value in vars(record).items():
        if key in _STANDARD_ATTRS or key in out or key == "code":
            continue
        out[key] = value if value is None or isinstance(value, bool | int | float | str) else repr(value)
    return out


def configure_json_logging(
    logger: logging.Logger, handler: logging.Handler, *, secrets: Iterable[str] = (),
    clock_ms: Callable[[], int] | None = None, level: int = logging.INFO, json_lines: bool = True,
) -> logging.Handler:
    """Attach ``handler`` to ``logger`` with the JSON formatter (``PlainFormatter`` when not ``json_lines``) and
    the redacting filter; returns the handler."""
    handler.setFormatter(JsonFormatter(clock_ms=clock_ms) if json_lines else PlainFormatter(clock_ms=clock_ms))
    handler.addFilter(RedactingFilter(secrets))
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler
