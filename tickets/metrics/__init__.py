"""Scorecards (三率 and the §6 metrics), their per-event rules, exports, the repeat-call rate."""
