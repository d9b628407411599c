"""Record a venue's public market streams into a replayable file (the format of ``exchange_sim.replay.records``).

``record_market`` opens one combined stream (``<symbol>@depth@100ms``, ``@trade`` and ``@bookTicker`` per
symbol), writes every message exactly as received with its local receive time (ns since the Unix epoch), and,
once each symbol's first depth diff has arrived (the streams are buffering, as Binance's local-book procedure
requires), one REST snapshot per symbol (``/api/v3/depth?limit=1000``, with ``"symbol"`` added so a file may hold
several symbols). Binance's public endpoints need no key; the loopback server (``mmbot exchange serve``) speaks
the same protocol. This is a real-time I/O tool: it reads the wall clock (``clock_ns``) by design, and it is
bounded by ``seconds`` and ``max_lines``.

Errors: ``RecordingError`` when the stream ends or a snapshot fails before every symbol has one (such a file
would not replay); aiohttp errors for an unreachable venue.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson

from exchange_sim.replay.records import RecordingError
from exchange_sim.replay.writer import RecordingWriter

BINANCE_REST = "https://api.binance.com"
BINANCE_WS = "wss://stream.binance.com:9443"
SNAPSHOT_LEVELS = 1000


@dataclass(frozen=True, slots=True)
class RecordResult:
    path: Path
    lines: int
    snapshots: int
    seconds: float


def venue_urls(venue: str, port: int = 8765) -> tuple[str, str]:
    """REST and WebSocket bases of ``local`` (the loopback server on ``port``) or ``binance``."""
    if venue == "local":
        return f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"
    if venue == "binance":
        return BINANCE_REST, BINANCE_WS
    raise ValueError(f"venue {venue!r}: choose local or binance")


async def record_market(
    *, rest_base: str, ws_base: str, symbols: Sequence[str], seconds: float, out: Path | str,
    max_lines: int = 10_000_000, clock_ns: Callable[[], int] = time.time_ns,
) -> RecordResult:
    """Record ``symbols`` for ``seconds`` into ``out`` (see module docstring)."""
    names = [s.upper() for s in symbols]
    streams = "/".join(f"{s.lower()}@{kind}" for s in names for kind in ("depth@100ms", "trade", "bookTicker"))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    seen_depth: set[str] = set()
    all_seen = asyncio.Event()
    with RecordingWriter(out) as writer:
        async with aiohttp.ClientSession() as http, http.ws_connect(f"{ws_base}/stream?streams={streams}") as ws:

            async def read() -> None:
                while writer.lines < max_lines:
                    message = await ws.receive()
                    if message.type is not aiohttp.WSMsgType.TEXT:
                        return
                    writer.write_raw(clock_ns(), message.data)
                    stream = str(orjson.loads(message.data).get("stream", ""))
                    if "@depth" in stream and not all_seen.is_set():
                        seen_depth.add(stream.split("@", 1)[0].upper())
                        if seen_depth >= set(names):
                            all_seen.set()

            reader = asyncio.create_task(read())
            snapshots = 0
            try:
                async with asyncio.timeout_at(deadline):
                    await all_seen.wait()
                    for symbol in names:
                        url = f"{rest_base}/api/v3/depth?symbol={symbol}&limit={SNAPSHOT_LEVELS}"
                        async with http.get(url) as response:
                            response.raise_for_status()
                            snapshot = orjson.loads(await response.read())
                        writer.write(clock_ns(), {**snapshot, "symbol": symbol})
                        snapshots += 1
                    await reader
            except TimeoutError:
                pass
            finally:
                reader.cancel()
    if snapshots < len(names):
        raise RecordingError(f"{out}: recorded {snapshots} of {len(names)} snapshots in {seconds:g} s "
                             "(no depth diff, or the stream ended): the file would not replay")
    return RecordResult(Path(out), writer.lines, snapshots, seconds)
