"""Click commands, one module each; `cli.py` loads them only when called."""
