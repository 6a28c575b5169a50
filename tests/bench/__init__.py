"""Benchmarks: ``python -m tests.bench [--quick] [NAME…]`` prints one JSON object per line.

Each module here named ``bench_*.py`` exposes ``run(quick: bool) -> Iterator[dict]`` yielding
``{"name", "value", "unit", "detail"}`` records. Not part of the default test run.
"""
