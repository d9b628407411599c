"""Side by side with NautilusTrader: one synthetic workload through our simulator + bot and through its backtester.

``python -m bench nautilus`` (issue 8): 1,000,000 top-of-book updates for one instrument and a maker that cancels
and requotes both sides on every 10th update, run through this project's simulated venue and the bot's order
path (``ours``) and through NautilusTrader's ``BacktestEngine`` (``nautilus_side``, optional extra
``bench-nautilus``), each side in its own child process so peak memory is measured per side.

Modules: ``workload`` (the seeded update stream and the maker rule both sides share), ``ours``,
``nautilus_side``, ``result`` (what a side reports), ``runner`` (child processes, figures, tables),
``__main__`` (the child entry point).
"""
