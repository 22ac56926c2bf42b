"""bench/RESULTS.md holds one section per benchmark; each benchmark rewrites only its own."""

from __future__ import annotations

from pathlib import Path

from temporal_dsql_runtime.atomic_files import write_atomically


def write_section(path: Path, name: str, text: str) -> None:
    """Replace the section `name` of `path` with `text` (append it when new); atomic."""
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    block = f"{begin}\n{text.strip()}\n{end}\n"
    current = path.read_text() if path.exists() else ""
    if begin in current and end in current:
        before, rest = current.split(begin, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        updated = before + block + after
    else:
        updated = (current.rstrip("\n") + "\n\n" if current.strip() else "") + block
    write_atomically(path, updated, mode=0o644)
