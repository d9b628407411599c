"""Side by side with NautilusTrader and hftbacktest: one stream and one maker rule through each engine.

``python -m bench nautilus`` (issue 22): the standard workload (1,000,000 top-of-book updates of a seeded numpy
random walk, a one-tick spread, a maker that cancels and requotes both sides at the touch every 10th update
under a 10-quote inventory cap) through this project's simulated venue and the bot (``ours``: the execution
path; ``ours_full``: the whole bot), NautilusTrader's ``BacktestEngine`` (``nautilus_side``, extra
``bench-nautilus``) and hftbacktest (``hft_side``, extra ``bench-hftbacktest``), in interleaved rounds, each
side in its own child process so peak memory is measured per side.

Modules: ``workload`` (the streams, the maker rule and ``reference_run``, the rule in plain Python), ``ours``,
``ours_full``, ``nautilus_side``, ``hft_side``, ``result`` (what a side reports), ``runner`` (child processes,
interleaving, medians, count checks, tables), ``__main__`` (the child entry point).
"""
