"""Outbound SMS: the stored message, sending and retries, opt-outs, what citizens are told."""
