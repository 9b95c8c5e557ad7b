"""REST API: one small view per operation; rules live in services, reads in selectors."""
