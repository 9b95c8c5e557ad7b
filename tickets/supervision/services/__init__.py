"""Supervision writes: notices and escalation, the deadline scanner, notice texts."""
