"""Twilio webhooks (voice and SMS): thin adapters around the intake services."""
