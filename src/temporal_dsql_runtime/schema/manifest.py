"""A versioned schema directory as temporal-sql-tool reads it: `vX.Y/manifest.json` and the SQL it lists."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, describe_os_error

MANIFEST_NAME = "manifest.json"
VERSION_DIR = re.compile(r"v\d+(?:\.\d+){0,2}")
VERSION_TEXT = re.compile(r"v?(\d+)(?:\.(\d+))?(?:\.(\d+))?")


def version_key(text: str) -> tuple[int, int, int]:
    """A version as a comparable triple, read as semver's ParseTolerant reads `1.10` (1.10.0, after 1.9)."""
    match = VERSION_TEXT.fullmatch(text.strip())
    if match is None:
        raise ConfigError(f"{text!r} is not a schema version; expected numbers such as 1.10")
    major, minor, patch = (int(part or 0) for part in match.groups())
    return major, minor, patch


@dataclass(frozen=True)
class Manifest:
    """One version directory's manifest, with the checks and the MD5 temporal-sql-tool applies."""

    directory: Path
    version: str
    """CurrVersion, without a leading `v`: the value written to `schema_version.curr_version`."""
    min_compatible_version: str
    description: str
    files: tuple[str, ...]
    """The SQL files of this version, in the order the manifest lists them."""
    md5: str
    """Hex MD5 of manifest.json's bytes, as temporal-sql-tool writes it to `schema_update_history`."""

    @property
    def key(self) -> tuple[int, int, int]:
        """This version as a comparable triple."""
        return version_key(self.version)


def read_manifest(directory: Path) -> Manifest:
    """Read and check `directory/manifest.json` the way temporal-sql-tool's update task does."""
    path = directory / MANIFEST_NAME
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {describe_os_error(error)}") from None
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    fields = {str(name).lower(): value for name, value in document.items()}

    version = _version_field(path, fields, "CurrVersion")
    if version != directory.name[1:]:
        raise ConfigError(f"{path}: CurrVersion {version} does not match its directory {directory.name}")
    min_compatible = _version_field(path, fields, "MinCompatibleVersion")
    files = fields.get("schemaupdatecqlfiles") or []
    if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
        raise ConfigError(f"{path}: SchemaUpdateCqlFiles must be a list of file names")
    if not files and fields.get("allownocqlfiles") is not True:
        raise ConfigError(f"{path}: SchemaUpdateCqlFiles is empty (set AllowNoCqlFiles to allow that)")
    description = fields.get("description") or ""
    return Manifest(
        directory=directory,
        version=version,
        min_compatible_version=min_compatible,
        description=str(description),
        files=tuple(files),
        md5=hashlib.md5(raw, usedforsecurity=False).hexdigest(),
    )


def _version_field(path: Path, fields: dict[str, Any], name: str) -> str:
    value = fields.get(name.lower())
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{path}: {name} is missing; expected a version such as 1.2")
    try:
        version_key(value)
    except ConfigError:
        raise ConfigError(f"{path}: {name} {value!r} is not a version such as 1.2") from None
    return value.removeprefix("v")


def version_directories(schema_dir: Path) -> list[Path]:
    """The `vX.Y` directories of a versioned schema directory, oldest first."""
    if not schema_dir.is_dir():
        raise ConfigError(
            f"--schema-dir: {schema_dir} is not a directory; expected a versioned schema directory"
        )
    found = [entry for entry in schema_dir.iterdir() if entry.is_dir() and VERSION_DIR.fullmatch(entry.name)]
    if not found:
        raise ConfigError(f"--schema-dir: {schema_dir} has no vX.Y version directories")
    return sorted(found, key=lambda entry: version_key(entry.name))


def latest_version(schema_dir: Path) -> str:
    """The newest version a schema directory offers: what a server built with it expects."""
    return version_directories(schema_dir)[-1].name[1:]


def pending_manifests(schema_dir: Path, current: str, target: str | None = None) -> list[Manifest]:
    """Manifests newer than `current`, up to and including `target` (default: the newest), oldest first."""
    start = version_key(current)
    directories = version_directories(schema_dir)
    if target is not None:
        end = version_key(target)
        if start > end:
            raise ConfigError(f"--to-version: {target} is older than the database's version {current}")
        if all(version_key(entry.name) != end for entry in directories):
            offered = ", ".join(entry.name[1:] for entry in directories)
            raise ConfigError(f"--to-version: {target} is not in {schema_dir}; it offers {offered}")
        directories = [entry for entry in directories if version_key(entry.name) <= end]
    return [read_manifest(entry) for entry in directories if version_key(entry.name) > start]
