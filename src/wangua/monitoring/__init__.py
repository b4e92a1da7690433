"""Watching the running system (R-33): Prometheus metrics and structured request logs."""
