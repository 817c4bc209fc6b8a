"""Turns deltas into pushes: plan, route, send, record and verify."""
