"""Estimators of an architecture's quality without full training."""
