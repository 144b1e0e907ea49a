"""What the JWT interoperability tests share: the deployments (HTTPS, a JWT
client, an introspecting client, a user), and a resource server's view of a JWT
built from PyPI only (PyJWT's ``PyJWKClient`` over the metadata's ``jwks_uri``,
joserfc as a second opinion), plus the database as Python's ``sqlite3`` reads it.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import ssl
import time
from contextlib import closing, suppress
from dataclasses import dataclass

import jwt  # PyJWT
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from harness import Deployment, canonical, free_port

USERNAME = "bob"
PASSWORD = "bob's password: tr0ub4dor&3 is not it either"
SUPER_ADMIN = ("admin", "admin")
INACTIVE = {"active": False}
# Two different validities, so that each grant is seen to use its own.
APP_ACCESS_TOKEN_VALIDITY = 1800  # client_credentials
USER_ACCESS_TOKEN_VALIDITY = 7200  # password and refresh_token
GRANTS = ["client_credentials", "password"]
# What RFC 9068 §2.2 requires, and the claims README, "How tokens behave" lists.
REQUIRED_CLAIMS = {"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"}
REGISTERED_SCOPES = "interop:read interop:write"  # a client's scope list, for scopes_supported


def config(port: int, *, issuer: str | None, renew: bool) -> str:
    issuer_line = f'issuer = "{issuer}"' if issuer is not None else "# issuer: the default, from [server]"
    return f"""\
[server]
hostname = "127.0.0.1"
port = {port}

[super_admin]
username = "admin"
password = "admin"

[oauth]
{issuer_line}

[oauth.token_renewal]
renew_access_token_per_request = {"true" if renew else "false"}

[oauth.token_validation]
app_access_token_validity = "{APP_ACCESS_TOKEN_VALIDITY // 60}m"
user_access_token_validity = "{USER_ACCESS_TOKEN_VALIDITY // 3600}h"
"""


# MARK: - Deployments


@dataclass
class JwtServer:
    deployment: Deployment
    issuer: str  # the `iss` the tokens must carry and the metadata must name
    client_id: str  # --token-type jwt
    client_secret: str
    other_client_id: str  # --token-type jwt, a second client
    other_client_secret: str
    # --introspection. Introspection as the super admin checks a password with the slow
    # KDF (scrypt, docs/storage.md) on every call; a client's secret is quick to check.
    introspector: tuple[str, str]

    @property
    def base_url(self) -> str:
        return self.deployment.base_url

    @property
    def verify(self) -> str:
        return self.deployment.verify

    def url(self, path: str) -> str:
        return self.base_url + path

    def session(self, method: str = "client_secret_basic", *, other: bool = False,
                scope: str | None = None) -> OAuth2Session:
        client_id, secret = ((self.other_client_id, self.other_client_secret) if other
                             else (self.client_id, self.client_secret))
        s = OAuth2Session(client_id, secret, token_endpoint_auth_method=method,
                          revocation_endpoint_auth_method=method, scope=scope, default_timeout=30)
        # The session's `verify` loses to $REQUESTS_CA_BUNDLE unless the environment is ignored.
        s.trust_env = False
        s.verify = self.verify
        return s


def launch(tmp_path_factory: pytest.TempPathFactory, name: str, *, renew: bool = False,
           issuer: str = "configured") -> JwtServer:
    """Starts a deployment with JWT clients and a user; the caller stops `.deployment`.

    issuer: "configured" sets `[oauth] issuer = "https://localhost:PORT"` on a port
    chosen here; "default" leaves the issuer to the server on a port chosen here;
    "port-0" leaves both to the server.
    """
    last_error: Exception | None = None
    for _ in range(3):  # a port chosen here may be taken before the server binds it
        port = 0 if issuer == "port-0" else free_port()
        configured = f"https://localhost:{port}" if issuer == "configured" else None
        deployment = Deployment(tmp_path_factory.mktemp(name), config(port, issuer=configured, renew=renew))
        try:
            deployment.start()
            break
        except RuntimeError as error:
            last_error = error
            try:
                deployment.stop()
            except RuntimeError:
                pass  # it had exited already: `last_error` says how
    else:
        raise RuntimeError(f"no deployment started in 3 attempts: {last_error}")
    try:
        assert deployment.base_url == f"https://127.0.0.1:{deployment.port}", deployment.base_url
        first = json.loads(deployment.cli("client", "create", "--name", "jwt", "--token-type", "jwt", "--json"))
        other = json.loads(deployment.cli("client", "create", "--name", "jwt-other", "--token-type", "jwt", "--json"))
        introspector = json.loads(deployment.cli("client", "create", "--name", "introspector", "--introspection",
                                                 "--scopes", REGISTERED_SCOPES, "--json"))
        deployment.cli("user", "create", USERNAME, "--password-stdin", stdin=PASSWORD + "\n")
    except BaseException:
        with suppress(RuntimeError):
            deployment.stop()
        raise
    return JwtServer(
        deployment=deployment,
        # Unconfigured, the issuer should be where the server listens (README, "How tokens behave":
        # Discovery; RFC 8414 §2).
        issuer=configured or deployment.base_url,
        client_id=first["client_id"], client_secret=first["client_secret"],
        other_client_id=other["client_id"], other_client_secret=other["client_secret"],
        introspector=(introspector["client_id"], introspector["client_secret"]),
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """renew_access_token_per_request = false (the default), configured issuer."""
    launched = launch(tmp_path_factory, "jwt-reuse")
    with launched.deployment:
        yield launched


@pytest.fixture(scope="module")
def renewing_server(tmp_path_factory):
    """renew_access_token_per_request = true."""
    launched = launch(tmp_path_factory, "jwt-renew", renew=True)
    with launched.deployment:
        yield launched


# MARK: - Helpers


def fetch(server: JwtServer, grant: str, scope: str, *, method: str = "client_secret_basic",
          other: bool = False) -> dict:
    with server.session(method, other=other, scope=scope) as s:
        if grant == "password":
            return s.fetch_token(server.url("/oauth2/token"), grant_type="password",
                                 username=USERNAME, password=PASSWORD)
        return s.fetch_token(server.url("/oauth2/token"), grant_type="client_credentials")


def introspect(server: JwtServer, token: str, caller: tuple[str, str] | None = None) -> dict:
    """RFC 7662, as the introspection client unless `caller` says otherwise."""
    response = requests.post(server.url("/oauth2/introspect"), auth=caller or server.introspector,
                             data={"token": token}, verify=server.verify, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def discover(server: JwtServer) -> dict:
    """RFC 8414 §3: the metadata at the issuer's well-known URL."""
    response = requests.get(server.issuer + "/.well-known/oauth-authorization-server",
                            verify=server.verify, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    return response.json()


def jwks(server: JwtServer) -> dict:
    response = requests.get(server.url("/oauth2/jwks"), verify=server.verify, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def verify(server: JwtServer, token: str, *, client_id: str | None = None) -> tuple[dict, dict]:
    """A resource server's check (RFC 9068 §4): discover the JWKS from the issuer's
    metadata, verify signature, `typ`, issuer, audience and times with PyJWT, and
    again with joserfc. Returns (header, claims)."""
    client_id = client_id or server.client_id
    jwks_uri = discover(server)["jwks_uri"]
    # PyJWKClient fetches with urllib: a second HTTPS client, trusting only the generated certificate.
    context = ssl.create_default_context(cafile=server.verify)
    signing_key = jwt.PyJWKClient(jwks_uri, cache_jwk_set=False, ssl_context=context).get_signing_key_from_jwt(token)
    decoded = jwt.decode_complete(
        token, signing_key.key, algorithms=["ES256"], audience=client_id, issuer=server.issuer,
        options={"require": sorted(REQUIRED_CLAIMS), "verify_exp": True, "verify_iat": True},
    )
    header, claims = decoded["header"], decoded["payload"]
    assert header["alg"] == "ES256", header
    assert header["typ"] == "at+jwt", header  # RFC 9068 §2.1
    assert header["kid"] == signing_key.key_id, header

    # Second opinion: joserfc against the same key set.
    key_set = KeySet.import_key_set(jwks(server))
    token_by_joserfc = jose_jwt.decode(token, key_set, algorithms=["ES256"])
    jose_jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": server.issuer}, aud={"essential": True, "value": client_id},
        sub={"essential": True}, jti={"essential": True}, exp={"essential": True}, iat={"essential": True},
    ).validate(token_by_joserfc.claims)
    assert token_by_joserfc.claims == claims
    assert dict(token_by_joserfc.header) == header
    return header, claims


def assert_claims(claims: dict, *, subject: str, client_id: str, scope: str, validity: int) -> None:
    assert REQUIRED_CLAIMS <= set(claims), claims
    assert claims["sub"] == subject
    assert claims["client_id"] == client_id
    # RFC 9068 §2.2 lets aud be a string or an array; the server writes the client id.
    assert claims["aud"] == client_id or claims["aud"] == [client_id], claims
    assert claims["scope"] == canonical(scope)
    assert isinstance(claims["iat"], int) and isinstance(claims["exp"], int), claims
    assert abs(claims["iat"] - time.time()) <= 10, claims
    assert claims["exp"] - claims["iat"] == validity, claims
    # An opaque token's form (docs/storage.md, "Secrets at rest"): 26 bytes in base64url, the first
    # 6 the time of issue in milliseconds.
    assert re.fullmatch(r"[A-Za-z0-9_-]{35}", claims["jti"]), claims
    issued_ms = int.from_bytes(base64.urlsafe_b64decode(claims["jti"] + "=")[:6], "big")
    assert abs(issued_ms / 1000 - claims["iat"]) <= 10, claims


def db_query(server: JwtServer, sql: str, parameters: tuple = ()) -> list[tuple]:
    """Read-only, while the server runs (WAL lets a reader in)."""
    uri = f"file:{server.deployment.database}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
        return db.execute(sql, parameters).fetchall()


def db_bytes(server: JwtServer) -> bytes:
    """The database as a copy of its files would reveal it: the file and its WAL."""
    database = server.deployment.database
    files = [database, database.with_name(database.name + "-wal")]
    return b"".join(path.read_bytes() for path in files if path.exists())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: dict) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
