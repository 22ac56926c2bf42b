"""The credential command temporal-server runs per connection: cache, expiry, lock, files, errors, imports."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from credentials_support import DSQL_HOST, REGION, TOKEN_COMMAND, aws_environment, dsql_arguments, run_token
from temporal_dsql_runtime.credential_command import (
    TokenRequest,
    is_fresh,
    password_command_for,
    read_fresh,
    token_lifetime,
)
from temporal_dsql_runtime.loading import load_settings

HEAVY_MODULES = {"pydantic", "pydantic_settings", "botocore", "boto3", "click", "jinja2"}


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    return aws_environment(tmp_path)


def cache_entry(cache_dir: Path) -> Path:
    """The one token file in a cache directory."""
    [entry] = [path for path in cache_dir.iterdir() if not path.name.endswith(".lock")]
    return entry


def age_cache_entry(cache_dir: Path, seconds: float) -> None:
    """Pretend the cached token was minted `seconds` earlier than recorded."""
    entry = cache_entry(cache_dir)
    key, minted_at, token = entry.read_text().split("\n", 2)
    entry.write_text(f"{key}\n{float(minted_at) - seconds}\n{token}")


def mints(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def query_of(token: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit("https://" + token.strip()).query))


def test_a_token_is_minted_once_then_served_from_a_private_cache(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    cache, log = tmp_path / "runtime" / "token-cache", tmp_path / "mints"
    arguments = [*dsql_arguments(cache), "--mint-log", str(log)]

    first = run_token(arguments, environment)
    second = run_token(arguments, environment)

    assert (first.returncode, first.stderr, second.returncode, second.stderr) == (0, "", 0, "")
    assert first.stdout.startswith(f"{DSQL_HOST}/?Action=DbConnectAdmin&")
    assert first.stdout.count("\n") == 1 and first.stdout.endswith("\n")
    assert second.stdout == first.stdout
    assert mints(log) == 1
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE(cache_entry(cache).stat().st_mode) == 0o600


def test_a_token_within_the_safety_margin_of_its_expiry_is_replaced(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    cache, log = tmp_path / "cache", tmp_path / "mints"
    arguments = [*dsql_arguments(cache, ttl=900), "--mint-log", str(log)]
    first = run_token(arguments, environment)

    age_cache_entry(cache, 900 - 60 - 10)  # 70 s left, margin 60 s: still handed out
    reused = run_token(arguments, environment)
    assert (reused.stdout, mints(log)) == (first.stdout, 1)

    age_cache_entry(cache, 20)  # 50 s left: replaced
    before = time.time()
    replaced = run_token(arguments, environment)
    assert replaced.returncode == 0, replaced.stderr
    assert mints(log) == 2
    assert float(cache_entry(cache).read_text().split("\n")[1]) >= int(before)


@pytest.mark.parametrize(
    ("lifetime", "age", "fresh"),
    [
        (900, 0, True),
        (900, 839.9, True),
        (900, 840, False),
        (900, -1, False),
        (10, 7.9, True),
        (10, 8, False),
    ],
)
def test_freshness_keeps_a_margin_of_a_minute_or_a_fifth_of_the_lifetime(
    lifetime: int, age: float, fresh: bool
) -> None:
    assert is_fresh(1_000.0, lifetime, 1_000.0 + age) is fresh


def test_a_token_signed_by_expiring_credentials_is_cached_only_until_they_expire(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    cache, log = tmp_path / "cache", tmp_path / "mints"
    expire_at = int(time.time()) + 120
    expiring = environment | {
        "AWS_SESSION_TOKEN": "example-session-token",
        "AWS_CREDENTIAL_EXPIRATION": datetime.fromtimestamp(expire_at, UTC).isoformat(),
    }  # botocore's environment provider then gives RefreshableCredentials, like a task role or IRSA

    minted = run_token([*dsql_arguments(cache, ttl=3600), "--mint-log", str(log)], expiring)

    assert (minted.returncode, minted.stderr, mints(log)) == (0, "", 1)
    _, minted_at, lifetime, token = cache_entry(cache).read_text().split("\n", 3)
    assert int(minted_at) + int(lifetime) == expire_at
    assert token == minted.stdout.strip()
    request = TokenRequest("dsql", DSQL_HOST, 5432, REGION, "admin", 3600)
    margin = int(lifetime) / 5
    assert read_fresh(str(cache_entry(cache)), request, now=expire_at - margin - 1) == token
    assert read_fresh(str(cache_entry(cache)), request, now=expire_at - margin) is None
    assert read_fresh(str(cache_entry(cache)), request, now=int(minted_at) + 600) is None


@pytest.mark.parametrize(
    ("ttl", "expire_at", "lifetime"),
    [(3600, None, 3600), (3600, 1_120.9, 120), (900, 99_999.0, 900), (900, 999.0, 0)],
)
def test_the_cached_lifetime_is_the_ttl_cut_short_by_the_credentials(
    ttl: int, expire_at: float | None, lifetime: int
) -> None:
    assert token_lifetime(ttl, 1_000, expire_at) == lifetime


def test_a_cache_entry_written_for_another_request_is_never_served(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    cache, log = tmp_path / "cache", tmp_path / "mints"
    run_token([*dsql_arguments(cache), "--mint-log", str(log)], environment)
    entry = cache_entry(cache)
    entry.write_text(f"dsql someone@else.example {REGION} ttl=900\n{time.time()}\n900\nnot-for-this-request")

    result = run_token([*dsql_arguments(cache), "--mint-log", str(log)], environment)
    other_user = run_token(dsql_arguments(cache, user="temporal"), environment)

    assert "not-for-this-request" not in result.stdout
    assert mints(log) == 2
    assert query_of(result.stdout)["Action"] == "DbConnectAdmin"
    assert query_of(other_user.stdout)["Action"] == "DbConnect"


def test_concurrent_callers_from_a_cold_cache_sign_exactly_once(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    log = tmp_path / "mints"
    command = [*TOKEN_COMMAND, *dsql_arguments(tmp_path / "cache"), "--mint-log", str(log)]
    callers = [
        subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(30)
    ]
    results = [(caller.communicate(timeout=120), caller.returncode) for caller in callers]

    assert [code for _, code in results] == [0] * 30, results[0][0][1]
    assert len({out for (out, _), _ in results}) == 1
    assert mints(log) == 1


def test_a_password_file_is_read_anew_on_every_call(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("first-secret\n")
    first = run_token(["--kind", "file", "--file", str(secret)], os.environ)

    replacement = tmp_path / "password.new"
    replacement.write_text("second-secret")
    os.replace(replacement, secret)
    second = run_token(["--kind", "file", "--file", str(secret)], os.environ)

    assert (first.returncode, first.stdout) == (0, "first-secret\n")
    assert (second.returncode, second.stdout) == (0, "second-secret\n")


def test_the_rendered_password_command_follows_a_kubernetes_secret_rotation(tmp_path: Path) -> None:
    mount = tmp_path / "secrets"
    (mount / "..2025_01").mkdir(parents=True)
    (mount / "..2025_01" / "password").write_text("before-rotation\n")
    (mount / "..data").symlink_to("..2025_01")
    (mount / "password").symlink_to("..data/password")
    settings = load_settings(
        {
            "TEMPORAL_SQL_PLUGIN_NAME": "postgres12",
            "TEMPORAL_SQL_HOST": "db.example.com",
            "TEMPORAL_SQL_USER": "temporal",
            "TEMPORAL_SQL_PASSWORD_FILE": str(mount / "password"),
            "TEMPORAL_SQL_PASSWORD_DELIVERY": "command",
        }
    )
    command = password_command_for(settings)
    assert command is not None
    assert command.args == ["token", "--kind", "file", "--file", str(mount / "password")]

    before = subprocess.run([command.command, *command.args], capture_output=True, text=True, check=True)
    (mount / "..2025_02").mkdir()
    (mount / "..2025_02" / "password").write_text("after-rotation\n")
    (mount / "..data_tmp").symlink_to("..2025_02")
    os.replace(mount / "..data_tmp", mount / "..data")
    after = subprocess.run([command.command, *command.args], capture_output=True, text=True, check=True)

    assert (before.stdout, after.stdout) == ("before-rotation\n", "after-rotation\n")


def test_the_rendered_iam_password_command_prints_a_valid_token(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    settings = load_settings(
        {
            "TEMPORAL_SQL_HOST": DSQL_HOST,
            "TEMPORAL_SQL_AUTH_METHOD": "iam",
            "TEMPORAL_SQL_IAM_TOKEN_TTL": "1800",
            "TEMPORAL_OPENSEARCH_ENDPOINT": "https://search.example:443",
            "TEMPORAL_RUNTIME_DIR": str(tmp_path / "runtime"),
        }
    )
    command = password_command_for(settings)
    assert command is not None
    assert command.command == os.path.join(os.path.dirname(sys.executable), "temporal-dsql-runtime")
    assert command.args == [
        "token", "--kind", "dsql", "--host", DSQL_HOST, "--region", REGION, "--user", "admin",
        "--ttl", "1800", "--cache-dir", str(tmp_path / "runtime" / "token-cache"),
    ]  # fmt: skip

    result = subprocess.run([command.command, *command.args], env=environment, capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    query = query_of(result.stdout)
    assert (query["Action"], query["X-Amz-Expires"]) == ("DbConnectAdmin", "1800")
    assert f"/{REGION}/dsql/aws4_request" in query["X-Amz-Credential"]


def test_rds_iam_and_static_delivery_get_the_right_command_or_none(tmp_path: Path) -> None:
    rds = {
        "TEMPORAL_SQL_PLUGIN_NAME": "postgres12",
        "TEMPORAL_SQL_HOST": "db.example.com",
        "TEMPORAL_SQL_PORT": "5433",
        "TEMPORAL_SQL_USER": "temporal",
        "TEMPORAL_SQL_AUTH_METHOD": "iam",
        "TEMPORAL_SQL_REGION": "eu-west-1",
        "TEMPORAL_RUNTIME_DIR": str(tmp_path),
    }
    command = password_command_for(load_settings(rds))
    assert command is not None
    assert command.args[:3] == ["token", "--kind", "rds"]
    assert command.args[command.args.index("--port") + 1] == "5433"

    assert password_command_for(load_settings(rds | {"TEMPORAL_SQL_PASSWORD_DELIVERY": "static"})) is None
    static = {
        "TEMPORAL_SQL_PLUGIN_NAME": "postgres12",
        "TEMPORAL_SQL_HOST": "db",
        "TEMPORAL_SQL_PASSWORD": "pw",
    }
    assert password_command_for(load_settings(static)) is None


def test_a_cache_hit_imports_neither_pydantic_nor_botocore(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    arguments = dsql_arguments(tmp_path / "cache")

    miss = run_token(arguments, environment, python_flags=["-X", "importtime"])
    hit = run_token(arguments, environment, python_flags=["-X", "importtime"])

    def imported(result: subprocess.CompletedProcess[str]) -> set[str]:
        lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
        return {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines}

    assert "botocore" in imported(miss)
    assert imported(hit) & HEAVY_MODULES == set()
    assert hit.stdout == miss.stdout


def test_no_credentials_is_one_line_on_stderr_and_nothing_on_stdout(tmp_path: Path) -> None:
    result = run_token(dsql_arguments(tmp_path / "cache"), aws_environment(tmp_path, credentials=False))

    assert (result.returncode, result.stdout) == (78, "")
    assert result.stderr.count("\n") == 1
    assert "no AWS credentials found" in result.stderr


def test_a_cache_directory_that_is_not_private_is_refused_without_printing_its_token(
    tmp_path: Path, environment: dict[str, str]
) -> None:
    cache = tmp_path / "cache"
    token = run_token(dsql_arguments(cache), environment).stdout.strip()
    (tmp_path / "elsewhere").symlink_to(cache)

    result = run_token(dsql_arguments(tmp_path / "elsewhere"), environment)

    assert (result.returncode, result.stdout) == (78, "")
    assert result.stderr.count("\n") == 1
    assert "must be a directory owned by this user" in result.stderr
    assert token and token not in result.stderr


@pytest.mark.parametrize(
    ("content", "printed"),
    [
        (b"pw\n", "pw\n"),
        (b"pw\r\n", "pw\n"),
        (b"pw\r", "pw\r\n"),
        (b"p\rw\n", "p\rw\n"),
        (b"pw\n\n", "pw\n\n"),
        (b" pw ", " pw \n"),
    ],
)
def test_a_password_file_loses_exactly_one_trailing_newline(
    tmp_path: Path, content: bytes, printed: str
) -> None:
    secret = tmp_path / "password"
    secret.write_bytes(content)

    result = subprocess.run(
        [*TOKEN_COMMAND, "--kind", "file", "--file", str(secret)], capture_output=True, check=False
    )

    assert (result.returncode, result.stdout) == (0, printed.encode())


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "--file: cannot read "), (b"", "is empty"), (b"\n", "is empty"), (b"\r\n", "is empty")],
)
def test_a_missing_or_empty_password_file_is_a_one_line_config_error(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    secret = tmp_path / "password"
    if content is not None:
        secret.write_bytes(content)

    result = run_token(["--kind", "file", "--file", str(secret)], os.environ)

    assert (result.returncode, result.stdout) == (78, "")
    assert result.stderr.count("\n") == 1 and message in result.stderr
    assert result.stderr.startswith("temporal-dsql-runtime token: error: --file: ")


def test_an_unreadable_password_file_never_shows_its_content(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_bytes(b"\xffhunter2-not-utf8")

    result = run_token(["--kind", "file", "--file", str(secret)], os.environ)

    assert (result.returncode, result.stdout) == (78, "")
    assert "not UTF-8" in result.stderr
    assert "hunter2" not in result.stderr


@pytest.mark.parametrize(
    "arguments",
    [
        [],
        ["--kind", "dsql"],
        ["--kind", "file", "--bogus", "1"],
        ["--kind", "dsql", "--ttl"],
        [
            "--kind",
            "rds",
            "--host",
            "h",
            "--region",
            "r",
            "--user",
            "u",
            "--cache-dir",
            "/tmp",
            "--ttl",
            "901",
        ],
    ],
)
def test_a_malformed_command_line_is_a_usage_error(arguments: list[str]) -> None:
    result = run_token(arguments, os.environ)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("temporal-dsql-runtime token: error: ")


def test_help_and_the_click_group_reach_the_same_command(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("through-click\n")
    through_group = [sys.executable, "-c", "from temporal_dsql_runtime.cli import main; main()", "token"]

    shown = run_token(["--help"], os.environ)
    via_click = subprocess.run(
        [*through_group, "--kind", "file", "--file", str(secret)], capture_output=True, text=True, check=False
    )

    assert (shown.returncode, shown.stdout.split(" ", 1)[0]) == (0, "usage:")
    assert (via_click.returncode, via_click.stdout) == (0, "through-click\n")
