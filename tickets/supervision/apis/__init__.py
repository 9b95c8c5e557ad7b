"""Supervision endpoints and their output serializers."""
