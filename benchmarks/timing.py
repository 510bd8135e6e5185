"""Timing shared by the benchmark scripts (run as `python benchmarks/NAME.py`, so this module
is importable from them)."""

import time

import numpy as np


def median_seconds(function, repeats):
    """Median wall time of ``repeats`` calls of ``function``, after one warm-up call
    (tracing, allocations and thread pools are not what a benchmark should measure)."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times))
