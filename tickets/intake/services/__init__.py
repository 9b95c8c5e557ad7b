"""Intake writes: the one intake path, calls, inbound SMS, citizen logins, partners, limits."""
