"""Metrics writes: scorecard counters, their rules, exports."""
