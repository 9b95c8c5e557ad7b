"""Messaging writes: SMS sending and the citizen notices (受理, 转办)."""
