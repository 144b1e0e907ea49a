"""Interoperability: JWT signing-key rotation and the authorization server
metadata (RFC 8414), checked with PyJWT, joserfc and Authlib's metadata model
against the real executable over HTTPS (see test_jwt.py for the setting)."""

from __future__ import annotations

import json
import time
from datetime import datetime

import requests
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata

from jwt_support import (  # noqa: F401, F811: the module-scoped server fixtures are imported to be used
    APP_ACCESS_TOKEN_VALIDITY,
    INACTIVE,
    REGISTERED_SCOPES,
    SUPER_ADMIN,
    assert_claims,
    discover,
    fetch,
    introspect,
    jwks,
    launch,
    verify,
    server,
)


# MARK: - (5) Key rotation


def test_keys_rotate_publishes_the_new_key_and_keeps_the_old_one(tmp_path_factory, scope):
    # A deployment of its own: rotation changes the key every later token gets.
    server = launch(tmp_path_factory, "jwt-rotate", issuer="default")
    with server.deployment:
        # The default issuer (README, "How tokens behave": Discovery): from [server] hostname and
        # port.
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

        # A running server takes another process's rotation up within a second.
        time.sleep(1.1)
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
    # Authlib's RFC 8414 validator (https, no query/fragment, arrays, …), every member.
    checked = AuthorizationServerMetadata(metadata)
    checked.validate()
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert set(metadata["grant_types_supported"]) == {"authorization_code", "password", "client_credentials", "refresh_token",
                                                      "urn:ietf:params:oauth:grant-type:device_code"}
    assert {"client_secret_basic", "client_secret_post", "none"} == set(metadata["token_endpoint_auth_methods_supported"])
    assert "openid" in metadata["scopes_supported"]
    assert set(REGISTERED_SCOPES.split()) <= set(metadata["scopes_supported"])
    assert not any(item.startswith("^") for item in metadata["scopes_supported"]), "a pattern is not a scope"

    # Each endpoint works at the URL the document gives, with a method it names.
    # ("none" is a public client's, which has no client_credentials grant.)
    for method in set(metadata["token_endpoint_auth_methods_supported"]) - {"none"}:
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
