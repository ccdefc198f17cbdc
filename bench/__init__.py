"""Benchmarks run against a real server and a dedicated PostgreSQL database (see README.md)."""
