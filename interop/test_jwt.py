"""Interoperability: JWT access tokens (RFC 9068) checked by libraries nobody here wrote.

A client registered with ``--token-type jwt`` gets ES256-signed JWT access
tokens (docs/token-renewal.md, "JWT access tokens"). Here a resource server's view of them is built
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

import hashlib
import hmac
import json
import ssl

import jwt  # PyJWT
import pytest
import requests
from authlib.integrations.requests_client import OAuthError
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from harness import canonical
from jwt_support import (  # noqa: F401, F811: the module-scoped server fixtures are imported to be used
    APP_ACCESS_TOKEN_VALIDITY,
    GRANTS,
    INACTIVE,
    PASSWORD,
    SUPER_ADMIN,
    USERNAME,
    USER_ACCESS_TOKEN_VALIDITY,
    assert_claims,
    b64url,
    b64url_json,
    db_bytes,
    db_query,
    discover,
    fetch,
    introspect,
    jwks,
    unb64url,
    verify,
    renewing_server,
    server,
)


# MARK: - (1) Issued JWTs verify against /oauth2/jwks


@pytest.mark.parametrize("grant", GRANTS)
@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_a_jwt_access_token_verifies_against_the_published_keys(server, grant, method, scope):
    token = fetch(server, grant, scope, method=method)

    # docs/token-endpoint.md, "Success": the token response's members are the same as for opaque
    # tokens.
    # A user's token for openid comes with an ID token (docs/browser-sign-in.md, "OpenID Connect").
    user = {"refresh_token", "id_token"} if "openid" in token["scope"].split() else {"refresh_token"}
    expected = {"access_token", "scope", "token_type", "expires_in"} | (user if grant == "password" else set())
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
        # A refresh token is active only to its own client and the super admin (README,
        # Abuse resistance): the resource server's introspection client learns nothing of it.
        for value in refresh[:-1]:
            assert introspect(server, value, SUPER_ADMIN) == INACTIVE
        assert introspect(server, refresh[-1], SUPER_ADMIN)["active"] is True
        assert introspect(server, refresh[-1]) == INACTIVE
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

    # Another client may not revoke it (README, "How tokens behave": 400 unauthorized_client,
    # nothing changes).
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


# MARK: - Storage (docs/storage.md, "Secrets at rest")


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
