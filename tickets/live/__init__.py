"""The live feed's outbox (LiveOutbox): events whose push failed; channels_app sends them."""
