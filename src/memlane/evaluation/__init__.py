"""Benchmarks that measure the engine through its public paths (no HTTP)."""
