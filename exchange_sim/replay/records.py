"""Typed records of a Binance market recording, read line by line from a (gzipped) file.

The format (``../shared/data/binance-spot/README.md``): text lines ``<local receive time, ns> <JSON>``, the JSON
being a combined-stream message (``<symbol>@depth@100ms``, ``<symbol>@bookTicker``, ``<symbol>@trade``) exactly as
Binance sends it, or one REST depth snapshot ``{"lastUpdateId", "bids", "asks"}``. A snapshot carries no symbol
on Binance; ``mmbot record`` adds ``"symbol"`` to each snapshot it writes (a file may then hold several symbols),
and a snapshot without it belongs to the file's only symbol (the reader's ``default_symbol``).

Prices and quantities stay decimal strings here; ``units`` turns one into an exact integer of a given step.
Every record keeps its file line number so later stages can name the line of a problem.

Errors: ``RecordingError`` naming ``path:line`` for a line that is not ``<int> <JSON object>`` of a known kind.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

Levels = tuple[tuple[str, str], ...]  # (price, qty) decimal strings, as Binance sends them


class RecordingError(ValueError):
    """A recording that cannot be replayed; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class DepthRecord:
    """One ``depthUpdate`` (diff of levels ``U..u``; a quantity of 0 removes the level). ``event_ms``: E."""

    line: int
    recv_ns: int
    symbol: str
    event_ms: int
    first_update_id: int
    last_update_id: int
    bids: Levels
    asks: Levels


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """One public trade. ``trade_ms``: T (when it matched); ``buyer_is_maker``: m (True: a sell taker)."""

    line: int
    recv_ns: int
    symbol: str
    event_ms: int
    trade_ms: int
    trade_id: int
    price: str
    qty: str
    buyer_is_maker: bool


@dataclass(frozen=True, slots=True)
class BookTickerRecord:
    """One best bid/ask update (no exchange time on Binance spot: only the update id ``u``)."""

    line: int
    recv_ns: int
    symbol: str
    update_id: int
    bid: str
    bid_qty: str
    ask: str
    ask_qty: str


@dataclass(frozen=True, slots=True)
class SnapshotRecord:
    """One REST depth snapshot (``GET /api/v3/depth``), its levels best first."""

    line: int
    recv_ns: int
    symbol: str
    last_update_id: int
    bids: Levels
    asks: Levels


Record = DepthRecord | TradeRecord | BookTickerRecord | SnapshotRecord


def units(text: str, step_units: int, decimals: int = 8) -> int:
    """``text`` (a non-negative decimal string) as a whole number of steps of ``step_units / 10**decimals``.

    Exact: ``units("61837.63000000", 1_000_000) == 6183763`` (tick 0.01). ``ValueError`` if off the grid."""
    whole, _, frac = text.partition(".")
    if len(frac) > decimals and frac[decimals:].strip("0"):
        raise ValueError(f"{text!r} has more than {decimals} decimals")
    scaled = int(whole + frac[:decimals].ljust(decimals, "0"))
    steps, rest = divmod(scaled, step_units)
    if rest:
        raise ValueError(f"{text!r} is not a multiple of the step")
    return steps


def _levels(raw: Any) -> Levels:
    return tuple((str(p), str(q)) for p, q in raw)


def _stream_record(line: int, recv_ns: int, stream: str, data: dict[str, Any]) -> Record | None:
    symbol = str(data.get("s") or stream.split("@", 1)[0].upper())
    kind = stream.split("@", 1)[1] if "@" in stream else ""
    if kind.startswith("depth"):
        return DepthRecord(line, recv_ns, symbol, int(data["E"]), int(data["U"]), int(data["u"]),
                           _levels(data["b"]), _levels(data["a"]))
    if kind == "trade":
        return TradeRecord(line, recv_ns, symbol, int(data["E"]), int(data["T"]), int(data["t"]),
                           str(data["p"]), str(data["q"]), bool(data["m"]))
    if kind == "bookTicker":
        return BookTickerRecord(line, recv_ns, symbol, int(data["u"]), str(data["b"]), str(data["B"]),
                                str(data["a"]), str(data["A"]))
    return None


def parse_line(text: str | bytes, line: int, default_symbol: str | None = None) -> Record | None:
    """One line as a record (None for a stream kind the replay does not use); ``ValueError`` if malformed."""
    head, _, body = (text.decode() if isinstance(text, bytes) else text).partition(" ")
    recv_ns = int(head)
    message = orjson.loads(body)
    if not isinstance(message, dict):
        raise ValueError("the JSON is not an object")
    if "stream" in message:
        return _stream_record(line, recv_ns, str(message["stream"]), message["data"])
    if "lastUpdateId" in message:
        symbol = message.get("symbol", default_symbol)
        if symbol is None:
            raise ValueError("a depth snapshot without 'symbol' in a file of several symbols")
        return SnapshotRecord(line, recv_ns, str(symbol), int(message["lastUpdateId"]),
                              _levels(message["bids"]), _levels(message["asks"]))
    raise ValueError("neither a combined-stream message nor a depth snapshot")


def _open(path: Path) -> Any:
    return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")


def stream_symbols(path: Path | str, *, max_lines: int = 10_000) -> set[str]:
    """Symbols of the streams in the first ``max_lines`` lines (the symbol of an unnamed snapshot)."""
    found: set[str] = set()
    with _open(Path(path)) as handle:
        for n, raw in enumerate(handle):
            if n >= max_lines:
                break
            _, _, body = raw.partition(b" ")
            if body.startswith(b'{"stream":'):
                stream = orjson.loads(body)["stream"]
                found.add(str(stream).split("@", 1)[0].upper())
    return found


def read_records(path: Path | str) -> Iterator[Record]:
    """Every replayable record of ``path`` in file order, streamed (``RecordingError`` naming the line)."""
    path = Path(path)
    symbols = stream_symbols(path)
    default = next(iter(symbols)) if len(symbols) == 1 else None
    with _open(path) as handle:
        for n, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = parse_line(raw, n, default)
            except (ValueError, KeyError, TypeError, IndexError, orjson.JSONDecodeError) as error:
                raise RecordingError(f"{path}:{n}: {error.__class__.__name__}: {error}") from None
            if record is not None:
                yield record
