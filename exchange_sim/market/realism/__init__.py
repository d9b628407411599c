"""The realism checklist of the synthetic market: record runs, compute the statistics, judge them (issue 19)."""
