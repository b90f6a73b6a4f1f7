"""Estimators of a candidate's quality short of full training (learning curves, ...)."""
