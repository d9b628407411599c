"""Writing recordings: the one place that knows the line format ``<receive time, ns> <JSON>`` (gzip when ``.gz``).

``RecordingWriter`` writes a message exactly as received (``write_raw``: the recorder keeps Binance's bytes) or
built (``write``: tests and converters); the ``*_message`` helpers build the three message kinds the reader
(``exchange_sim.replay.records``) understands, so hand-made recordings in tests are in the real format.
Errors: ``ValueError`` for a receive time that is negative or a raw message that spans lines.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

import orjson

Level = tuple[str, str]


class RecordingWriter:
    """An open recording file; use as a context manager. ``lines``: lines written so far."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._handle: gzip.GzipFile | BinaryIO = (
            gzip.GzipFile(self.path, "wb") if self.path.suffix == ".gz" else self.path.open("wb"))
        self.lines = 0

    def write_raw(self, recv_ns: int, text: str | bytes) -> None:
        """One message as received (its JSON text unchanged)."""
        body = text.encode() if isinstance(text, str) else text
        if recv_ns < 0 or b"\n" in body:
            raise ValueError("a recording line is a non-negative receive time and one line of JSON")
        self._handle.write(b"%d %s\n" % (recv_ns, body))
        self.lines += 1

    def write(self, recv_ns: int, message: Mapping[str, Any]) -> None:
        self.write_raw(recv_ns, orjson.dumps(message))

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def depth_message(symbol: str, event_ms: int, first_id: int, last_id: int,
                  bids: Sequence[Level], asks: Sequence[Level]) -> dict[str, Any]:
    """A combined-stream ``depthUpdate`` as Binance sends it."""
    return {"stream": f"{symbol.lower()}@depth@100ms", "data": {
        "e": "depthUpdate", "E": event_ms, "s": symbol, "U": first_id, "u": last_id,
        "b": [list(level) for level in bids], "a": [list(level) for level in asks]}}


def trade_message(symbol: str, trade_ms: int, trade_id: int, price: str, qty: str,
                  buyer_is_maker: bool) -> dict[str, Any]:
    """A combined-stream ``trade`` as Binance sends it."""
    return {"stream": f"{symbol.lower()}@trade", "data": {
        "e": "trade", "E": trade_ms, "s": symbol, "t": trade_id, "p": price, "q": qty, "T": trade_ms,
        "m": buyer_is_maker, "M": True}}


def snapshot_message(symbol: str | None, last_update_id: int, bids: Sequence[Level],
                     asks: Sequence[Level]) -> dict[str, Any]:
    """A REST depth snapshot; ``symbol`` is this project's addition (None: Binance's own form)."""
    out: dict[str, Any] = {"lastUpdateId": last_update_id, "bids": [list(b) for b in bids],
                           "asks": [list(a) for a in asks]}
    if symbol is not None:
        out["symbol"] = symbol
    return out
