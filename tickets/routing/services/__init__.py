"""Routing decisions: gazetteer, classification, catalogue."""
