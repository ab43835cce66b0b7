"""Kindly's benchmarks: `python -m bench` (see bench/README.md).

Every figure is reported against a floor measured in the same process and run
(json.dumps of the same dicts, raw SQL for the same rows), so the ratios carry
across machines even when the milliseconds do not.
"""
