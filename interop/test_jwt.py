"""Interoperability: JWT access tokens (RFC 9068) checked by libraries nobody here wrote.

A client registered with ``--token-type jwt`` gets ES256-signed JWT access
tokens (SPEC §5 "JWT tokens"). Here a resource server's view of them is built
from PyPI only: the authorization server metadata (RFC 8414) is fetched from the
issuer over HTTPS, its ``jwks_uri`` is handed to PyJWT's ``PyJWKClient``, and each
token is verified by PyJWT and, as a second opinion, by joserfc (Authlib's JOSE),
for its header (``typ: at+jwt``, ``kid``, ``alg: ES256``) and every claim of
RFC 9068 §2.2. The server's own view (introspection, RFC 7662) and its database
(read with Python's ``sqlite3``) are checked against the same tokens: a new JWT
on every request, the previous one revoked; refresh; revocation (RFC 7009);
forgeries; ``token-authority keys rotate``; the metadata document itself.

Every request goes over HTTPS and verifies the self-signed certificate the
server generates on first start; the main deployment's configured issuer names
``localhost`` while requests go to ``127.0.0.1``, so both of the certificate's
names are used.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import ssl
import time
import uuid
from contextlib import closing, suppress
from dataclasses import dataclass
from datetime import datetime

import jwt  # PyJWT
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
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
# What RFC 9068 §2.2 requires, and what SPEC/the issue lists.
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
    # KDF (SPEC §6) on every call; a client's secret is quick to check.
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
        # Unconfigured, the issuer should be where the server listens (SPEC §3, RFC 8414 §2).
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


def introspect(server: JwtServer, token: str) -> dict:
    response = requests.post(server.url("/oauth2/introspect"), auth=server.introspector, data={"token": token},
                             verify=server.verify, timeout=30)
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
    uuid.UUID(claims["jti"])  # a UUID, per the server's description


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


# MARK: - (1) Issued JWTs verify against /oauth2/jwks


@pytest.mark.parametrize("grant", GRANTS)
@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_a_jwt_access_token_verifies_against_the_published_keys(server, grant, method, scope):
    token = fetch(server, grant, scope, method=method)

    # SPEC §4: the token response's members are the same as for opaque tokens.
    expected = {"access_token", "scope", "token_type", "expires_in"} | ({"refresh_token"} if grant == "password" else set())
    assert set(token) - {"expires_at"} == expected
    assert token["token_type"] == "Bearer"
    assert token["scope"] == canonical(scope)
    validity = USER_ACCESS_TOKEN_VALIDITY if grant == "password" else APP_ACCESS_TOKEN_VALIDITY
    assert isinstance(token["expires_in"], int) and validity - 5 <= token["expires_in"] <= validity

    header, claims = verify(server, token["access_token"])
    assert header["kid"] in {key["kid"] for key in jwks(server)["keys"]}
    # sub: the user, or the client itself for client_credentials (RFC 9068 §2.2).
    assert_claims(claims, subject=USERNAME if grant == "password" else server.client_id,
                  client_id=server.client_id, scope=scope, validity=validity)
    assert claims["iss"] == discover(server)["issuer"]  # RFC 9068 §4 step 3

    # A resource server that expects another audience refuses it.
    signing_key = jwt.PyJWKClient(server.url("/oauth2/jwks"), ssl_context=ssl.create_default_context(
        cafile=server.verify)).get_signing_key_from_jwt(token["access_token"])
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(token["access_token"], signing_key.key, algorithms=["ES256"], audience="some-other-api")

    # The server agrees with the claims.
    body = introspect(server, token["access_token"])
    assert body["active"] is True, body
    assert body["client_id"] == server.client_id and body["scope"] == claims["scope"]
    assert body["exp"] == claims["exp"] and body["iat"] == claims["iat"]
    assert body.get("sub", claims["sub"]) == claims["sub"]  # RFC 7662 §2.2: optional, but the same if given
    if grant == "password":
        assert body.get("username") == USERNAME


def test_the_jwks_publishes_public_ec_keys_only(server):
    response = requests.get(server.url("/oauth2/jwks"), verify=server.verify, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    assert response.headers.get("Cache-Control") == "public, max-age=60"
    keys = response.json()["keys"]
    assert len(keys) >= 1
    for key in keys:
        assert key["kty"] == "EC" and key["crv"] == "P-256" and key["alg"] == "ES256" and key["use"] == "sig", key
        assert key["kid"] and len(unb64url(key["x"])) == 32 and len(unb64url(key["y"])) == 32, key
        assert "d" not in key, "the JWKS must not carry a private key"
        jwt.PyJWK(key)  # PyJWT accepts it as an ES256 key
    assert len({key["kid"] for key in keys}) == len(keys)


# MARK: - (2) A new JWT on every request; the previous one revoked


@pytest.mark.parametrize("grant", GRANTS)
@pytest.mark.parametrize("renew", [False, True], ids=["renew_per_request_false", "renew_per_request_true"])
def test_every_request_issues_a_new_jwt_and_revokes_the_previous(request, grant, renew, scope):
    server = request.getfixturevalue("renewing_server" if renew else "server")
    tokens = [fetch(server, grant, scope) for _ in range(3)]

    access = [token["access_token"] for token in tokens]
    assert len(set(access)) == 3, "whatever renew_access_token_per_request says, every request gets a new JWT"
    jtis = {verify(server, value)[1]["jti"] for value in access}
    assert len(jtis) == 3
    for value in access[:-1]:
        assert introspect(server, value) == INACTIVE
    assert introspect(server, access[-1])["active"] is True
    if grant == "password":
        refresh = [token["refresh_token"] for token in tokens]
        assert len(set(refresh)) == 3
        for value in refresh[:-1]:
            assert introspect(server, value) == INACTIVE
        assert introspect(server, refresh[-1])["active"] is True
        # A superseded refresh token is revoked, not rotated: refused, and no reason to
        # revoke the newest pair, which belongs to a grant of its own.
        with server.session() as s, pytest.raises(OAuthError) as refused:
            s.refresh_token(server.url("/oauth2/token"), refresh_token=refresh[0])
        assert refused.value.error == "invalid_grant"
        assert introspect(server, access[-1])["active"] is True

    # In the database: the earlier rows REVOKED (not EXPIRED or INACTIVE), one ACTIVE.
    subject = USERNAME if grant == "password" else server.client_id
    states = [state for (state,) in db_query(
        server, "SELECT state FROM access_tokens WHERE client_id = ? AND subject = ? AND scope = ? ORDER BY id",
        (server.client_id, subject, canonical(scope)))]
    assert states == ["REVOKED", "REVOKED", "ACTIVE"]


# MARK: - (3) Refresh


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_the_refresh_grant_returns_a_verifiable_jwt(server, method, scope):
    with server.session(method) as s:
        old = s.fetch_token(server.url("/oauth2/token"), grant_type="password",
                            username=USERNAME, password=PASSWORD, scope=scope)
        new = s.refresh_token(server.url("/oauth2/token"), refresh_token=old["refresh_token"])
    assert new["access_token"] != old["access_token"]
    assert new["refresh_token"] and new["refresh_token"] != old["refresh_token"]  # renew_refresh_token = true
    assert new["scope"] == canonical(scope)

    _, old_claims = verify(server, old["access_token"])
    header, claims = verify(server, new["access_token"])
    assert_claims(claims, subject=USERNAME, client_id=server.client_id, scope=scope,
                  validity=USER_ACCESS_TOKEN_VALIDITY)
    assert claims["sub"] == old_claims["sub"] and claims["scope"] == old_claims["scope"]
    assert claims["jti"] != old_claims["jti"]
    assert introspect(server, old["access_token"]) == INACTIVE
    assert introspect(server, new["access_token"])["active"] is True


def test_a_narrowing_refresh_returns_a_jwt_with_the_narrower_scope(server, scope):
    narrower = [item for item in scope.split() if item.startswith("device_")][0]
    with server.session() as s:
        old = s.fetch_token(server.url("/oauth2/token"), grant_type="password",
                            username=USERNAME, password=PASSWORD, scope=scope)
        new = s.refresh_token(server.url("/oauth2/token"), refresh_token=old["refresh_token"], scope=narrower)
    assert new["scope"] == narrower
    _, claims = verify(server, new["access_token"])
    assert_claims(claims, subject=USERNAME, client_id=server.client_id, scope=narrower,
                  validity=USER_ACCESS_TOKEN_VALIDITY)


# MARK: - (4) Revocation and forgeries


def test_revoking_a_jwt_makes_it_inactive(server, scope):
    token = fetch(server, "password", scope)["access_token"]

    # Another client may not revoke it (SPEC §4: 400 unauthorized_client, nothing changes).
    with server.session(other=True) as other:
        refused = other.revoke_token(server.url("/oauth2/revoke"), token=token)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "unauthorized_client"
    assert introspect(server, token)["active"] is True

    with server.session() as s:
        response = s.revoke_token(server.url("/oauth2/revoke"), token=token, token_type_hint="access_token")
    assert response.status_code == 200, response.text
    assert introspect(server, token) == INACTIVE
    # Still a valid signature: only the server knows it was revoked (RFC 9068 §5's trade-off).
    verify(server, token)


def _forge(kind: str, genuine: str) -> str:
    header_segment, payload_segment, signature_segment = genuine.split(".")
    header = json.loads(unb64url(header_segment))
    claims = json.loads(unb64url(payload_segment))
    other_key = ec.generate_private_key(ec.SECP256R1())
    if kind == "other-key-same-kid":
        return jwt.encode(claims, other_key, algorithm="ES256", headers={"kid": header["kid"], "typ": "at+jwt"})
    if kind == "other-key-own-kid":
        return jwt.encode(claims, other_key, algorithm="ES256", headers={"kid": "attacker", "typ": "at+jwt"})
    if kind == "tampered-payload":
        claims["scope"] = "admin " + claims["scope"]
        claims["exp"] += 86400
        return f"{header_segment}.{b64url_json(claims)}.{signature_segment}"
    if kind == "tampered-signature":
        signature = bytearray(unb64url(signature_segment))
        signature[-1] ^= 0x01
        return f"{header_segment}.{payload_segment}.{b64url(bytes(signature))}"
    if kind == "alg-none":
        return f"{b64url_json({**header, 'alg': 'none'})}.{payload_segment}."
    if kind == "hs256-with-the-public-key":  # the algorithm-confusion attack
        forged_header = b64url_json({**header, "alg": "HS256"})
        return forged_header + "." + payload_segment  # signature appended by the caller
    if kind == "jti-alone":
        return claims["jti"]
    if kind == "jti-with-digest-prefix":
        # The row is stored under SHA-256("jti:" + jti); an opaque token is looked up under
        # SHA-256(token). This string, readable in any copy of the JWT, must not be a token.
        return "jti:" + claims["jti"]
    raise AssertionError(kind)


FORGERIES = ["other-key-same-kid", "other-key-own-kid", "tampered-payload", "tampered-signature", "alg-none",
             "hs256-with-the-public-key", "jti-alone", "jti-with-digest-prefix"]


@pytest.mark.parametrize("kind", FORGERIES)
def test_a_forged_jwt_with_a_real_jti_is_inactive_and_revokes_nothing(server, kind, scope):
    genuine = fetch(server, "client_credentials", scope)["access_token"]
    forged = _forge(kind, genuine)
    if kind == "hs256-with-the-public-key":
        kid = jwt.get_unverified_header(genuine)["kid"]
        public_jwk = next(key for key in jwks(server)["keys"] if key["kid"] == kid)
        public_pem = jwt.PyJWK(public_jwk).key.public_bytes(
            encoding=serialization.Encoding.PEM, format=serialization.PublicFormat.SubjectPublicKeyInfo)
        # HMAC keyed with the public key as a confused verifier would take it: PEM, or the JWK's JSON.
        for secret in (public_pem, json.dumps(public_jwk, separators=(",", ":")).encode()):
            candidate = forged + "." + b64url(hmac.new(secret, forged.encode(), hashlib.sha256).digest())
            assert introspect(server, candidate) == INACTIVE
        forged = candidate
    assert forged != genuine

    assert introspect(server, forged) == INACTIVE
    # RFC 7009 §2.2: 200 for a token the server does not know; and the genuine token is untouched.
    with server.session() as s:
        response = s.revoke_token(server.url("/oauth2/revoke"), token=forged)
    assert response.status_code == 200, response.text
    assert introspect(server, genuine)["active"] is True


# MARK: - (5) Key rotation


def test_keys_rotate_publishes_the_new_key_and_keeps_the_old_one(tmp_path_factory, scope):
    # A deployment of its own: rotation changes the key every later token gets.
    server = launch(tmp_path_factory, "jwt-rotate", issuer="default")
    with server.deployment:
        # The default issuer (SPEC §3/§5): from [server] hostname and port.
        assert discover(server)["issuer"] == f"https://127.0.0.1:{server.deployment.port}"

        before = fetch(server, "client_credentials", scope + "_before")["access_token"]
        pair_before = fetch(server, "password", scope + "_pair")
        old_header, old_claims = verify(server, before)
        keys = jwks(server)["keys"]
        assert [key["kid"] for key in keys] == [old_header["kid"]]

        rotated = json.loads(server.deployment.cli("keys", "rotate", "--json"))
        new_kid = rotated["kid"]
        assert new_kid and new_kid != old_header["kid"]

        keys = jwks(server)["keys"]
        assert len(keys) == 2 and {key["kid"] for key in keys} == {old_header["kid"], new_kid}
        # The token signed before rotation still verifies, and the server still accepts it.
        assert verify(server, before)[0]["kid"] == old_header["kid"]
        assert introspect(server, before)["active"] is True

        after = fetch(server, "client_credentials", scope + "_after")["access_token"]
        header, claims = verify(server, after)
        assert header["kid"] == new_kid
        assert_claims(claims, subject=server.client_id, client_id=server.client_id, scope=scope + "_after",
                      validity=APP_ACCESS_TOKEN_VALIDITY)
        # A refresh after rotation is signed with the new key too.
        with server.session() as s:
            refreshed = s.refresh_token(server.url("/oauth2/token"), refresh_token=pair_before["refresh_token"])
        assert verify(server, refreshed["access_token"])[0]["kid"] == new_kid

        # `keys list`: the new key current, the old one published at least until its last token expires.
        listed = {row["kid"]: row for row in json.loads(server.deployment.cli("keys", "list", "--json"))}
        assert listed[new_kid]["status"] == "current"
        assert listed[old_header["kid"]]["status"] == "published"
        publish_until = datetime.fromisoformat(listed[old_header["kid"]]["publish_until"].replace("Z", "+00:00"))
        assert publish_until.timestamp() >= old_claims["exp"]


# MARK: - (6) Metadata (RFC 8414)


def test_the_metadata_document_names_working_endpoints(server, scope):
    response = requests.get(server.issuer + "/.well-known/oauth-authorization-server",
                            verify=server.verify, timeout=30)
    assert response.status_code == 200, response.text
    metadata = response.json()

    assert {"issuer", "token_endpoint", "introspection_endpoint", "revocation_endpoint", "jwks_uri",
            "grant_types_supported", "response_types_supported", "token_endpoint_auth_methods_supported",
            "scopes_supported"} <= set(metadata), metadata
    # RFC 8414 §3.3: the issuer is the one the document was fetched for (here the configured one).
    assert metadata["issuer"] == server.issuer
    # Authlib's RFC 8414 validator (https, no query/fragment, arrays, …), all but one member:
    # it takes an empty response_types_supported for a missing one, and this server has no
    # authorization endpoint, hence no response type.
    checked = AuthorizationServerMetadata(metadata)
    for key in checked.REGISTRY_KEYS:
        if key != "response_types_supported":
            getattr(checked, f"validate_{key}")()
    assert metadata["response_types_supported"] == []
    assert set(metadata["grant_types_supported"]) == {"password", "client_credentials", "refresh_token"}
    assert {"client_secret_basic", "client_secret_post"} <= set(metadata["token_endpoint_auth_methods_supported"])
    assert "openid" in metadata["scopes_supported"]
    assert set(REGISTERED_SCOPES.split()) <= set(metadata["scopes_supported"])
    assert not any(item.startswith("^") for item in metadata["scopes_supported"]), "a pattern is not a scope"

    # Each endpoint works at the URL the document gives, with a method it names.
    for method in metadata["token_endpoint_auth_methods_supported"]:
        with server.session(method, scope=scope) as s:
            token = s.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
        _, claims = verify(server, token["access_token"])
        assert claims["iss"] == metadata["issuer"]
    response = requests.post(metadata["introspection_endpoint"], auth=SUPER_ADMIN,
                             data={"token": token["access_token"]}, verify=server.verify, timeout=30)
    assert response.status_code == 200 and response.json()["active"] is True, response.text
    with server.session(metadata["revocation_endpoint_auth_methods_supported"][0]) as s:
        response = s.revoke_token(metadata["revocation_endpoint"], token=token["access_token"])
    assert response.status_code == 200, response.text
    assert introspect(server, token["access_token"]) == INACTIVE

    response = requests.get(metadata["jwks_uri"], verify=server.verify, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json() == jwks(server) and response.json()["keys"]


def test_the_default_issuer_names_the_bound_port(tmp_path_factory):
    """With `port = 0` the default issuer names the port the server was given."""
    server = launch(tmp_path_factory, "jwt-port-0", issuer="port-0")
    with server.deployment:
        metadata = requests.get(server.url("/.well-known/oauth-authorization-server"),
                                verify=server.verify, timeout=30).json()
        assert metadata["issuer"] == server.base_url
        assert metadata["token_endpoint"] == server.base_url + "/oauth2/token"


# MARK: - Storage (SPEC §5, §6)


def test_only_the_hashed_jti_and_metadata_reach_the_database(server, scope):
    issued = [fetch(server, "client_credentials", scope), fetch(server, "password", scope)]
    tokens = [token["access_token"] for token in issued]
    rows = db_query(server, """
        SELECT length(token_sealed), signing_key_id, token_sha256 FROM access_tokens
        WHERE client_id = ? AND scope = ? ORDER BY id""", (server.client_id, canonical(scope)))
    assert len(rows) == 2
    for (sealed_length, signing_key_id, digest), token in zip(rows, tokens):
        assert sealed_length == 0, "a JWT is not stored, not even encrypted"
        assert signing_key_id == jwt.get_unverified_header(token)["kid"]
        assert digest != hashlib.sha256(token.encode()).digest()

    contents = db_bytes(server)
    for token in tokens:
        _, payload_segment, signature_segment = token.split(".")
        jti = jwt.decode(token, options={"verify_signature": False})["jti"]
        for secret in (token, payload_segment, signature_segment, jti):
            assert secret.encode() not in contents, "a JWT, a part of one, or its jti is in the database file"
