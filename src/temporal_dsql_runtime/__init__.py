"""Typed settings, per-service config rendering and a launcher for Temporal on Aurora DSQL."""
