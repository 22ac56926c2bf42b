"""Test helpers that start real services: PostgreSQL, temporal-server through the launcher."""
