"""Core endpoints (tickets, assignments, the catalogue) and the API building blocks."""
