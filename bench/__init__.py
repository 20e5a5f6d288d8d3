"""Benchmarks of one hubs-bridge process (see ``bench/README.md``)."""
