"""The organisation: units, categories, users and roles, routing-catalogue rows, the functional rule."""
