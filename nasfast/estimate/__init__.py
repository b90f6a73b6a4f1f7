"""Estimators of a candidate's quality short of full training: zero-cost proxies, learning
curves, ..."""
