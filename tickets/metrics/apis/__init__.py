"""Metrics endpoints: scorecards, rankings, exports."""
