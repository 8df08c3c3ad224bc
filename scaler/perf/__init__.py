"""Benchmarks of scaler's own speed, each against a baseline measured in the same run."""
