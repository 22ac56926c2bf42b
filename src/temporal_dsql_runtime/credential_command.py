"""`temporal-dsql-runtime token`: the password command temporal-server runs for every new database connection.

It prints either the current content of a password file (re-read on every call, so a rotated secret is picked
up without a restart) or an IAM token (DSQL or RDS) from a private cache. Many copies run at once when a
connection pool warms up: a file lock lets exactly one of them mint while the others wait and read its token.
Everything it needs arrives as arguments; `password_command_for` writes those arguments into the config.

Start-up time is this module's budget: a cache hit imports only os, sys, stat, fcntl and time (and this
package's errors, atomic_files and secret_files), never click, pydantic, botocore or even `typing`
(annotations here are strings that only mypy reads).
"""

from __future__ import annotations

import fcntl
import os
import stat
import sys
import time

from .atomic_files import write_atomically
from .errors import EX_SOFTWARE, EX_USAGE, ConfigError, UnavailableError, UserError
from .secret_files import read_secret_file

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .render import PasswordCommand
    from .settings import Settings
    from .tokens import MintedToken

PROGRAM = "temporal-dsql-runtime token"
EXECUTABLE = "temporal-dsql-runtime"
CACHE_SUBDIRECTORY = "token-cache"
MAX_SAFETY_MARGIN = 60.0
"""A cached token is handed out until this many seconds (or a fifth of its lifetime) before expiry. Its
lifetime is --ttl, or less when the temporary AWS credentials that signed it expire sooner."""

MAX_DSQL_TTL = 604_800
USAGE = f"""usage: {PROGRAM} --kind dsql|rds|file [options]

Print a database password for temporal-server's passwordCommand, on stdout.

  --kind dsql       an Aurora DSQL IAM token (DbConnectAdmin for user admin, DbConnect otherwise)
  --kind rds        an RDS IAM token (rds-db:connect)
  --kind file       the current content of --file, without one trailing newline

  --host HOST       database host (dsql, rds)
  --port PORT       database port (rds; default 5432)
  --region REGION   AWS region (dsql, rds)
  --user USER       database user (dsql, rds)
  --ttl SECONDS     token lifetime (dsql: 1..{MAX_DSQL_TTL}, default 900; rds: 1..900, default 900)
  --cache-dir DIR   private token cache, created 0700 (dsql, rds)
  --file PATH       the password file (file)
  --mint-log PATH   append one line per token minted (for tests and benchmarks)

A cached token is reused until min({MAX_SAFETY_MARGIN:.0f} s, lifetime/5) before it expires; its lifetime
is --ttl, or less when the temporary AWS credentials that signed it expire sooner.
"""
OPTIONS = frozenset(
    ("--kind", "--host", "--port", "--region", "--user", "--ttl", "--cache-dir", "--file", "--mint-log")
)


class UsageError(UserError):
    """The command line is malformed."""

    exit_code = EX_USAGE


class TokenRequest:
    """Which token to mint, and the cache entry it lives in."""

    __slots__ = ("host", "kind", "port", "region", "ttl", "user")

    def __init__(self, kind: str, host: str, port: int, region: str, user: str, ttl: int) -> None:
        self.kind, self.host, self.port, self.region, self.user, self.ttl = (
            kind,
            host,
            port,
            region,
            user,
            ttl,
        )

    @property
    def key(self) -> str:
        """Everything the token depends on, stored beside it so a changed request never reuses it."""
        where = f"{self.host}:{self.port}" if self.kind == "rds" else self.host
        return f"{self.kind} {self.user}@{where} {self.region} ttl={self.ttl}"

    @property
    def file_name(self) -> str:
        """The cache file's name: the key with anything but letters, digits, '.' and '-' replaced."""
        return "".join(c if c.isascii() and (c.isalnum() or c in ".-") else "_" for c in self.key)[:200]

    def mint(self) -> MintedToken:
        """Sign a new token (imports botocore)."""
        from . import tokens

        if self.kind == "dsql":
            return tokens.mint_dsql_token_with_expiry(self.host, self.region, self.user, self.ttl)
        return tokens.mint_rds_token_with_expiry(self.host, self.port, self.region, self.user)


def main(argv: list[str]) -> int:
    """Print the password `argv` asks for; on failure one line on stderr, a non-zero exit, no secret."""
    try:
        options = parse_arguments(argv)
        if options is None:
            sys.stdout.write(USAGE)
            return 0
        secret = password(options)
        sys.stdout.write(secret + "\n")
        sys.stdout.flush()
    except UserError as error:
        for problem in error.problems:
            sys.stderr.write(f"{PROGRAM}: error: {problem}\n")
        return error.exit_code
    except OSError as error:
        sys.stderr.write(f"{PROGRAM}: error: {error.strerror or type(error).__name__}\n")
        return EX_SOFTWARE
    except Exception as error:
        sys.stderr.write(f"{PROGRAM}: error: unexpected {type(error).__name__}\n")
        return EX_SOFTWARE
    return 0


def parse_arguments(argv: list[str]) -> dict[str, str] | None:
    """`--name value` / `--name=value` pairs; None when help is asked for (argparse costs start-up)."""
    options: dict[str, str] = {}
    position = 0
    while position < len(argv):
        argument = argv[position]
        if argument in ("-h", "--help"):
            return None
        name, separator, value = argument.partition("=")
        if name not in OPTIONS:
            raise UsageError(f"unknown argument {argument.partition('=')[0]!r}; see --help")
        if not separator:
            position += 1
            if position == len(argv):
                raise UsageError(f"{name} needs a value")
            value = argv[position]
        if name in options:
            raise UsageError(f"{name} is given twice")
        options[name] = value
        position += 1
    return options


def password(options: dict[str, str]) -> str:
    """The secret the options describe: a file's content, or a cached or freshly minted token."""
    kind = options.get("--kind")
    if kind == "file":
        return read_secret_file(_required(options, "--file"), "--file")
    if kind not in ("dsql", "rds"):
        raise UsageError("--kind: accepts dsql, rds or file")
    request = TokenRequest(
        kind,
        _required(options, "--host"),
        _integer(options, "--port", 5432, 1, 65_535),
        _required(options, "--region"),
        _required(options, "--user"),
        _integer(options, "--ttl", 900, 1, MAX_DSQL_TTL if kind == "dsql" else 900),
    )
    if "\n" in request.key:
        raise UsageError("--host, --region and --user must be single lines")
    return cached_token(request, _required(options, "--cache-dir"), options.get("--mint-log"))


def cached_token(request: TokenRequest, cache_dir: str, mint_log: str | None = None) -> str:
    """A token valid for at least the safety margin: the cached one, or one minted under the lock."""
    try:
        private_directory(cache_dir)
        path = os.path.join(cache_dir, request.file_name)
        token = read_fresh(path, request)
        if token is not None:
            return token
        lock = os.open(path + ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError as error:
        raise ConfigError(f"--cache-dir {cache_dir}: cannot use the token cache: {error.strerror}") from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        token = read_fresh(path, request)
        if token is None:
            minted_at = int(time.time())
            minted = request.mint()
            token = minted.token
            lifetime = token_lifetime(request.ttl, minted_at, minted.credentials_expire_at)
            write_atomically(path, f"{request.key}\n{minted_at}\n{lifetime}\n{token}")
            if mint_log:
                _append_line(mint_log, f"{minted_at} {request.kind} pid={os.getpid()}")
        return token
    except OSError as error:
        raise ConfigError(f"--cache-dir {cache_dir}: cannot use the token cache: {error.strerror}") from None
    finally:
        os.close(lock)


def token_lifetime(ttl: int, minted_at: int, credentials_expire_at: float | None) -> int:
    """Seconds a token minted at `minted_at` works: its ttl, cut short by the expiry of its credentials."""
    if credentials_expire_at is None:
        return ttl
    return max(0, min(ttl, int(credentials_expire_at - minted_at)))


def safety_margin(lifetime: int) -> float:
    """How long before expiry a cached token stops being handed out."""
    return min(MAX_SAFETY_MARGIN, lifetime / 5)


def is_fresh(minted_at: float, lifetime: int, now: float) -> bool:
    """Whether a token minted at `minted_at` may still be handed out at `now`."""
    return minted_at <= now < minted_at + lifetime - safety_margin(lifetime)


def read_fresh(path: str, request: TokenRequest, now: float | None = None) -> str | None:
    """The cached token for `request`, if there is one and it is fresh (entry: key, minted_at, lifetime, token)."""
    try:
        with open(path, encoding="utf-8") as handle:
            key, minted_at, lifetime, token = handle.read().split("\n", 3)
        fresh = (
            key == request.key
            and bool(token)
            and is_fresh(
                float(minted_at), min(int(lifetime), request.ttl), time.time() if now is None else now
            )
        )
    except (FileNotFoundError, ValueError):
        return None
    return token if fresh else None


def private_directory(path: str) -> None:
    """Create `path` 0700, or make sure an existing one is ours, a real directory, and private."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise ConfigError(f"--cache-dir {path}: must be a directory owned by this user")
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)


def _append_line(path: str, line: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, (line + "\n").encode())
    finally:
        os.close(descriptor)


def _required(options: dict[str, str], name: str) -> str:
    value = options.get(name)
    if not value:
        raise UsageError(f"{name} is required for --kind {options.get('--kind')}")
    return value


def _integer(options: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    text = options.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise UsageError(f"{name}: accepts an integer from {low} to {high}")
    return int(text)


def password_command_for(settings: Settings) -> PasswordCommand | None:
    """The `passwordCommand` the config gives temporal-server; None when no command delivers the password."""
    from . import tokens
    from .render import PasswordCommand  # here, not above: render imports jinja2, which a cache hit must not

    if settings.sql_password_delivery != "command":
        return None
    if settings.sql_auth_method == "password" and settings.sql_password_file is not None:
        return PasswordCommand(
            runtime_executable(), ["token", "--kind", "file", "--file", _absolute(settings.sql_password_file)]
        )
    if settings.sql_auth_method != "iam":
        return None
    host, region, user = tokens.iam_target(settings)
    kind = "dsql" if settings.uses_dsql else "rds"
    args = ["token", "--kind", kind, "--host", host, "--region", region, "--user", user]
    if kind == "rds":
        args += ["--port", str(settings.sql_port)]
    args += ["--ttl", str(settings.sql_iam_token_ttl)]
    args += ["--cache-dir", _absolute(settings.runtime_dir / CACHE_SUBDIRECTORY)]
    return PasswordCommand(runtime_executable(), args)


def _absolute(path: os.PathLike[str]) -> str:
    """An absolute path without resolving symbolic links (a Kubernetes secret rotates by swapping a link)."""
    return os.path.abspath(path)


def runtime_executable() -> str:
    """The `temporal-dsql-runtime` console script: beside this Python interpreter, else on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), EXECUTABLE)
    if os.access(beside, os.X_OK):
        return beside
    import shutil

    found = shutil.which(EXECUTABLE)
    if found is None:
        raise UnavailableError(
            f"cannot find the {EXECUTABLE} executable beside {sys.executable} or on PATH; "
            "install this package so that its console script exists"
        )
    return os.path.abspath(found)
