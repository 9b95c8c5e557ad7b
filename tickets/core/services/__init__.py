"""Core writes: the workflow (the only code that changes a state), history events, numbers."""
