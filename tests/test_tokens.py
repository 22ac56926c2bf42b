"""IAM tokens: presigned SigV4 URLs for DSQL and RDS, signed locally with example keys and a frozen clock."""

from __future__ import annotations

import hashlib
import hmac
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import botocore.auth
import botocore.credentials
import botocore.session
import pytest

from credentials_support import DSQL_HOST, EXAMPLE_ACCESS_KEY, EXAMPLE_SECRET_KEY, REGION, aws_environment
from temporal_dsql_runtime.errors import EX_CONFIG, ConfigError
from temporal_dsql_runtime.loading import load_settings
from temporal_dsql_runtime.tokens import (
    NO_CREDENTIALS,
    MintedToken,
    mint_dsql_token,
    mint_dsql_token_with_expiry,
    mint_rds_token,
    mint_rds_token_with_expiry,
    token_for_settings,
)

FROZEN = datetime(2025, 3, 14, 15, 9, 26)
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """botocore's signer reads the time through this one function."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *_, **__: FROZEN)
    return FROZEN


@pytest.fixture
def session() -> botocore.session.Session:
    """A botocore session whose credentials are AWS's documented example keys."""
    session = botocore.session.Session()
    session.set_credentials(EXAMPLE_ACCESS_KEY, EXAMPLE_SECRET_KEY)
    return session


@pytest.fixture
def environment_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The process environment holds only the example keys, as in a container."""
    for name, value in aws_environment(tmp_path, base={}).items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)


class TemporaryCredentials(botocore.credentials.CredentialProvider):
    """Temporary example credentials expiring at a given time, as a task role, IRSA or SSO gives them."""

    METHOD = "temporary-example"

    def __init__(self, expiry: datetime) -> None:
        super().__init__()
        self.metadata = {
            "access_key": EXAMPLE_ACCESS_KEY,
            "secret_key": EXAMPLE_SECRET_KEY,
            "token": "example-session-token",
            "expiry_time": expiry.isoformat(),
        }

    def load(self) -> botocore.credentials.RefreshableCredentials:
        return botocore.credentials.RefreshableCredentials.create_from_metadata(
            self.metadata, refresh_using=lambda: self.metadata, method=self.METHOD
        )


def expiring_session(expiry: datetime) -> botocore.session.Session:
    """A botocore session whose credentials are RefreshableCredentials expiring at `expiry`."""
    session = botocore.session.Session()
    resolver = botocore.credentials.CredentialResolver([TemporaryCredentials(expiry)])
    session.register_component("credential_provider", resolver)
    return session


def parsed(token: str) -> tuple[str, dict[str, str]]:
    """The host[:port] and the query parameters of a token (a presigned URL without its scheme)."""
    url = urlsplit("https://" + token)
    assert url.path == "/"
    return url.netloc, dict(parse_qsl(url.query, keep_blank_values=True))


def expected_signature(token: str, service: str) -> str:
    """SigV4 query signing, computed here from the AWS specification rather than by botocore."""
    host, query = parsed(token)
    query.pop("X-Amz-Signature")
    canonical_query = "&".join(
        f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items())
    )
    canonical_request = "\n".join(["GET", "/", canonical_query, f"host:{host}\n", "host", EMPTY_SHA256])
    date = query["X-Amz-Date"]
    scope = f"{date[:8]}/{REGION}/{service}/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", date, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = ("AWS4" + EXAMPLE_SECRET_KEY).encode()
    for part in (date[:8], REGION, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(("user", "action"), [("admin", "DbConnectAdmin"), ("temporal", "DbConnect")])
def test_dsql_token_is_a_presigned_url_for_the_host_action_region_and_expiry(
    frozen_clock: datetime, session: botocore.session.Session, user: str, action: str
) -> None:
    token = mint_dsql_token(DSQL_HOST, REGION, user, 3600, session=session)

    host, query = parsed(token)
    assert host == DSQL_HOST
    assert query["Action"] == action
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"
    assert query["X-Amz-Credential"] == f"{EXAMPLE_ACCESS_KEY}/20250314/{REGION}/dsql/aws4_request"
    assert query["X-Amz-Date"] == "20250314T150926Z"
    assert query["X-Amz-Expires"] == "3600"
    assert query["X-Amz-SignedHeaders"] == "host"
    assert query["X-Amz-Signature"] == expected_signature(token, "dsql")
    assert EXAMPLE_SECRET_KEY not in token


def test_dsql_token_depends_on_the_clock_only_through_the_signing_time(
    monkeypatch: pytest.MonkeyPatch, session: botocore.session.Session
) -> None:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *_, **__: FROZEN)
    first = mint_dsql_token(DSQL_HOST, REGION, "admin", 900, session=session)
    again = mint_dsql_token(DSQL_HOST, REGION, "admin", 900, session=session)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *_, **__: FROZEN.replace(second=27))
    later = mint_dsql_token(DSQL_HOST, REGION, "admin", 900, session=session)

    assert first == again
    assert later != first
    assert parsed(later)[1]["X-Amz-Date"] == "20250314T150927Z"


def test_rds_token_is_a_presigned_connect_url_for_the_user(
    frozen_clock: datetime, session: botocore.session.Session
) -> None:
    token = mint_rds_token(
        "aurora.cluster-abc.us-east-1.rds.amazonaws.com", 5433, REGION, "temporal", session=session
    )

    host, query = parsed(token)
    assert host == "aurora.cluster-abc.us-east-1.rds.amazonaws.com:5433"
    assert query["Action"] == "connect"
    assert query["DBUser"] == "temporal"
    assert query["X-Amz-Credential"] == f"{EXAMPLE_ACCESS_KEY}/20250314/{REGION}/rds-db/aws4_request"
    assert query["X-Amz-Date"] == "20250314T150926Z"
    assert query["X-Amz-Expires"] == "900"
    assert query["X-Amz-Signature"] == expected_signature(token, "rds-db")


def test_a_token_carries_the_expiry_of_the_temporary_credentials_that_signed_it(
    frozen_clock: datetime,
) -> None:
    expiry = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=120)
    session = expiring_session(expiry)
    assert isinstance(session.get_credentials(), botocore.credentials.RefreshableCredentials)

    dsql = mint_dsql_token_with_expiry(DSQL_HOST, REGION, "admin", 3600, session=session)
    rds = mint_rds_token_with_expiry("db.example.com", 5432, REGION, "temporal", session=session)

    assert dsql == MintedToken(
        mint_dsql_token(DSQL_HOST, REGION, "admin", 3600, session=session), expiry.timestamp()
    )
    assert rds.credentials_expire_at == expiry.timestamp()
    assert parsed(dsql.token)[1]["X-Amz-Security-Token"] == "example-session-token"


def test_long_term_keys_have_no_credential_expiry(
    frozen_clock: datetime, session: botocore.session.Session
) -> None:
    minted = mint_dsql_token_with_expiry(DSQL_HOST, REGION, "admin", 900, session=session)

    assert minted == MintedToken(mint_dsql_token(DSQL_HOST, REGION, "admin", 900, session=session), None)


def test_no_credentials_is_a_one_line_config_error(
    monkeypatch: pytest.MonkeyPatch, environment_credentials: None
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    with pytest.raises(ConfigError) as raised:
        mint_dsql_token(DSQL_HOST, REGION, "admin", 900)

    assert raised.value.problems == (NO_CREDENTIALS,)
    assert raised.value.exit_code == EX_CONFIG


def test_a_missing_region_is_named() -> None:
    with pytest.raises(ConfigError, match=r"^TEMPORAL_SQL_REGION: required for TEMPORAL_SQL_AUTH_METHOD=iam"):
        mint_rds_token("db.example.com", 5432, "", "temporal")


def test_settings_choose_dsql_tokens_for_a_dsql_endpoint(
    frozen_clock: datetime, environment_credentials: None
) -> None:
    settings = load_settings(
        {
            "TEMPORAL_SQL_HOST": DSQL_HOST,
            "TEMPORAL_SQL_AUTH_METHOD": "iam",
            "TEMPORAL_SQL_IAM_TOKEN_TTL": "7200",
            "TEMPORAL_OPENSEARCH_ENDPOINT": "https://search.example:443",
        }
    )

    host, query = parsed(token_for_settings(settings))

    assert (host, query["Action"], query["X-Amz-Expires"]) == (DSQL_HOST, "DbConnectAdmin", "7200")
    assert f"/{REGION}/dsql/" in query["X-Amz-Credential"]


def test_settings_choose_rds_tokens_for_another_postgresql_host(
    frozen_clock: datetime, environment_credentials: None
) -> None:
    settings = load_settings(
        {
            "TEMPORAL_SQL_PLUGIN_NAME": "postgres12",
            "TEMPORAL_SQL_HOST": "db.example.com",
            "TEMPORAL_SQL_AUTH_METHOD": "iam",
            "TEMPORAL_SQL_REGION": "eu-west-1",
            "TEMPORAL_SQL_USER": "temporal",
        }
    )

    host, query = parsed(token_for_settings(settings))

    assert (host, query["Action"], query["DBUser"]) == ("db.example.com:5432", "connect", "temporal")
    assert "/eu-west-1/rds-db/" in query["X-Amz-Credential"]


def test_an_rds_token_needs_a_user() -> None:
    settings = load_settings(
        {
            "TEMPORAL_SQL_PLUGIN_NAME": "postgres12",
            "TEMPORAL_SQL_HOST": "db.example.com",
            "TEMPORAL_SQL_AUTH_METHOD": "iam",
            "TEMPORAL_SQL_REGION": "eu-west-1",
        }
    )

    with pytest.raises(ConfigError, match=r"^TEMPORAL_SQL_USER: required for TEMPORAL_SQL_AUTH_METHOD=iam"):
        token_for_settings(settings)


def test_botocore_is_imported_only_when_a_token_is_minted() -> None:
    probe = (
        "import sys, temporal_dsql_runtime.tokens; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'boto3', 'botocore'}))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("user", ["admin", "temporal"])
def test_tokens_equal_what_boto_clients_generate(
    frozen_clock: datetime, session: botocore.session.Session, user: str
) -> None:
    """We sign without building a client (faster); the result must be byte-for-byte botocore's own."""
    dsql = session.create_client("dsql", region_name=REGION)
    generate = (
        dsql.generate_db_connect_admin_auth_token if user == "admin" else dsql.generate_db_connect_auth_token
    )
    assert mint_dsql_token(DSQL_HOST, REGION, user, 1200, session=session) == generate(
        DSQL_HOST, REGION, 1200
    )
    rds = session.create_client("rds", region_name=REGION)
    host = "db.example.internal"
    assert mint_rds_token(host, 5432, REGION, user, session=session) == rds.generate_db_auth_token(
        host, 5432, user, REGION
    )
