"""Intake endpoints: the citizen app and the operators' call console."""
