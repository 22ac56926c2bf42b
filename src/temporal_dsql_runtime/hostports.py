"""`host:port` strings, with IPv6 literals bracketed."""

from __future__ import annotations


def join_host_port(host: str, port: int) -> str:
    """`host:port`, or `[host]:port` for an IPv6 literal."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
