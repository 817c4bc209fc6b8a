"""Benchmarks of clmsync side by side with its baselines."""
