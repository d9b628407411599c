"""Replay of recorded Binance markets: reader, book rebuild, queue models, the replayed market, the recorder."""
