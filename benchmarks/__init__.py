"""fer-edge benchmarks: latency (pytest-benchmark), accuracy int8 vs float, the `fer` peer, and a soak run.

Nothing in the project imports this package. See benchmarks/README.md.
"""
