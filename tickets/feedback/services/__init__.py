"""Feedback writes: ratings, 回访 callbacks, 不满意 review."""
