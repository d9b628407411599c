"""HTML reports of simulated sessions: self-contained files (charts inlined) that open offline."""
