"""Convert Binance's public daily dumps (data.binance.vision) into the replay format.

Inputs, CSV with or without a header row (a first row whose first field is not a number is skipped):

* trades: ``id, price, qty, quote_qty, time, is_buyer_maker[, is_best_match]``, or aggTrades
  (``aggregated=True``): ``agg_id, price, qty, first_id, last_id, time, is_buyer_maker[, is_best_match]``;
* bookTicker (published for some markets only): ``update_id, best_bid_price, best_bid_qty, best_ask_price,
  best_ask_qty, transaction_time, event_time``.

Times in milliseconds, or microseconds (Binance's spot dumps since 2025): a time above 10**14 is read as us.

The dumps hold no depth, so the converted book is the **touch only**: a snapshot of the first best bid/ask and
then one depth diff per bookTicker row (the old best price removed when it moves, the new one set), with
update ids 1, 2, 3, ... Trades become trade messages. Lines are merged in exchange-time order, and the receive
time of each line is its exchange time (the dumps have no local times: the replay's recorded feed latency is
then the configured floor alone). ``python -m exchange_sim.replay.convert --symbol S --trades T.csv
[--agg-trades] --book-ticker B.csv --out OUT.gz``.

Errors: ``ValueError`` naming ``file:line`` for a malformed row; a conversion without bookTicker rows is refused
(the replay needs a book: trades alone cannot say where liquidity rests).
"""

from __future__ import annotations

import argparse
import csv
import heapq
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from exchange_sim.replay.writer import RecordingWriter, depth_message, snapshot_message, trade_message

_US_THRESHOLD = 10**14


def _ms(text: str) -> int:
    value = int(text)
    return value // 1000 if value > _US_THRESHOLD else value


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open(newline="") as handle:
        for n, row in enumerate(csv.reader(handle), start=1):
            if not row or (n == 1 and not row[0].strip().lstrip("-").isdigit()):
                continue
            yield n, row


def _bool(text: str) -> bool:
    return text.strip().lower() in ("true", "1")


def trade_lines(path: Path, symbol: str, *, aggregated: bool = False) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """``(time ms, order, message)`` per trade row."""
    for n, row in _rows(path):
        try:
            if aggregated:
                trade_id, price, qty, time_ms, maker = int(row[0]), row[1], row[2], _ms(row[5]), _bool(row[6])
            else:
                trade_id, price, qty, time_ms, maker = int(row[0]), row[1], row[2], _ms(row[4]), _bool(row[5])
        except (IndexError, ValueError) as error:
            raise ValueError(f"{path}:{n}: not a {'aggTrades' if aggregated else 'trades'} row: {error}") from None
        yield time_ms, 0, trade_message(symbol, time_ms, trade_id, price, qty, maker)


def book_lines(path: Path, symbol: str) -> Iterator[tuple[int, int, dict[str, Any]]]:
    """``(time ms, order, message)``: the snapshot from the first row, then one touch diff per row."""
    previous: tuple[str, str, str, str] | None = None
    update_id = 0
    for n, row in _rows(path):
        try:
            bid, bid_qty, ask, ask_qty, time_ms = row[1], row[2], row[3], row[4], _ms(row[6] or row[5])
            float(bid), float(ask), float(bid_qty), float(ask_qty)
        except (IndexError, ValueError) as error:
            raise ValueError(f"{path}:{n}: not a bookTicker row: {error}") from None
        update_id += 1
        if previous is None:
            yield time_ms, 1, snapshot_message(symbol, update_id, [(bid, bid_qty)], [(ask, ask_qty)])
            update_id += 1  # the first diff straddles the snapshot
            yield time_ms, 2, depth_message(symbol, time_ms, update_id, update_id, [], [])
        else:
            bids = ([(previous[0], "0")] if previous[0] != bid else []) + [(bid, bid_qty)]
            asks = ([(previous[2], "0")] if previous[2] != ask else []) + [(ask, ask_qty)]
            yield time_ms, 1, depth_message(symbol, time_ms, update_id, update_id, bids, asks)
        previous = (bid, bid_qty, ask, ask_qty)


def convert(*, symbol: str, trades: Path, book_ticker: Path, out: Path, aggregated: bool = False) -> int:
    """Write the recording; returns its line count. ``ValueError`` without bookTicker rows."""
    book = list(book_lines(book_ticker, symbol))
    if not book:
        raise ValueError(f"{book_ticker}: no bookTicker rows: the replay needs a book, trades alone are not one")
    start_ms = book[0][0]
    with RecordingWriter(out) as writer:
        merged = heapq.merge(book, (t for t in trade_lines(trades, symbol, aggregated=aggregated) if t[0] > start_ms),
                             key=lambda item: (item[0], item[1]))
        for time_ms, _, message in merged:
            writer.write(time_ms * 1_000_000, message)
        return writer.lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Binance daily dumps -> replay recording")
    parser.add_argument("--symbol", required=True)
    parser.add_argument("--trades", type=Path, required=True)
    parser.add_argument("--agg-trades", action="store_true", help="--trades is an aggTrades dump")
    parser.add_argument("--book-ticker", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    lines = convert(symbol=args.symbol.upper(), trades=args.trades, book_ticker=args.book_ticker, out=args.out,
                    aggregated=args.agg_trades)
    print(f"wrote {lines:,} lines to {args.out}; replay it with: mmbot sim --market replay:{args.out}")


if __name__ == "__main__":
    main()
