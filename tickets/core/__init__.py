"""Core: tickets, assignments, states, history, the workflow, actors, numbering, privacy, access audit."""
