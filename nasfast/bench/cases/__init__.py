"""Benchmark cases, one module per op or search; each registers itself with bench_case."""
