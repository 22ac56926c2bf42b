"""Private files written atomically: readers see the old content or the new, never a part.

Only `os` and `stat` are imported, because the credential command (on every new database connection) uses this too.
"""

from __future__ import annotations

import os
import stat


def write_atomically(path: str | os.PathLike[str], data: bytes | str, mode: int = 0o600) -> None:
    """Write `data` to a temporary file beside `path` with `mode`, flush it to disk, then rename it over `path`."""
    target = os.fspath(path)
    directory, name = os.path.split(target)
    temporary = os.path.join(directory, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        try:
            os.fchmod(descriptor, mode)
            view = memoryview(payload)
            while view:
                view = view[os.write(descriptor, view) :]
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, target)
    except BaseException:
        if os.path.lexists(temporary):
            os.unlink(temporary)
        raise


def private_directory_problem(path: str | os.PathLike[str]) -> str | None:
    """Create `path` with mode 0700, or check an existing one; a description of what is wrong, else None.

    An existing directory must be a real directory (not a link), owned by this user, and writable by no one else:
    whoever controls it could swap the files written there.
    """
    target = os.fspath(path)
    try:
        os.makedirs(target, mode=0o700, exist_ok=True)
        info = os.lstat(target)
    except OSError as error:
        return f"cannot create {target}: {error.strerror or type(error).__name__}"
    if not stat.S_ISDIR(info.st_mode):
        return f"{target} is not a directory (a symbolic link is refused)"
    if info.st_uid != os.geteuid():
        return f"{target} belongs to another user (uid {info.st_uid})"
    if info.st_mode & 0o022:
        return f"{target} is writable by group or others (mode {stat.S_IMODE(info.st_mode):o}); chmod 700 it"
    return None
