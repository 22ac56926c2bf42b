"""Versioned schema management in temporal-sql-tool's layout, with Aurora DSQL's transaction rules."""
