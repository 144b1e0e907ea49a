"""Interoperability: a widely used OAuth client that nobody here wrote, against the real executable.

Authlib's ``OAuth2Session`` (its requests integration) drives the password,
client_credentials and refresh_token grants (RFC 6749 §4.3, §4.4, §6), token
introspection (RFC 7662) and revocation (RFC 7009) the way Authlib's documentation
shows, once with ``client_secret_basic`` and once with ``client_secret_post``.
The server is ``token-authority serve`` from ``.build/debug`` (or
``$TOKEN_AUTHORITY_BIN``) in a throw-away folder on a loopback port, over HTTPS
with the self-signed certificate it generates on first start, which every
request verifies (``harness.Deployment``); one test covers plain HTTP
(``[server.tls] enabled = false``).

Every test asks for its own ``device_…`` scope, which the server grants without
validation and which is part of the token key (docs/token-renewal.md), so each test has a key
of its own and none sees another's tokens, whatever order they run in.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session, OAuthError

from harness import Deployment, canonical

AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
USERNAME = "alice"
PASSWORD = "alice's password: correct horse battery staple"
SUPER_ADMIN = ("admin", "admin")
USER_ACCESS_TOKEN_VALIDITY = 3600  # the default "1h" (README, "Configuration: `deployment.toml`")
INACTIVE = {"active": False}  # RFC 7662 §2.2, and exactly what the seed shows

# HTTPS, the default (README, "Configuration: `deployment.toml`"): the server generates a
# self-signed pair on first start and every request below verifies it (`Server.verify`).
CONFIG = """\
[server]
hostname = "127.0.0.1"
port = 0

[super_admin]
username = "admin"
password = "admin"
"""


# MARK: - The server


@dataclass(frozen=True)
class Server:
    base_url: str
    verify: str  # the generated certificate, for requests' `verify=`
    client_id: str  # registered with --introspection
    client_secret: str
    plain_client_id: str  # registered without --introspection
    plain_client_secret: str

    @property
    def token_url(self) -> str:
        return f"{self.base_url}/oauth2/token"

    @property
    def introspect_url(self) -> str:
        return f"{self.base_url}/oauth2/introspect"

    @property
    def revoke_url(self) -> str:
        return f"{self.base_url}/oauth2/revoke"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):
    with Deployment(tmp_path_factory.mktemp("token-authority-interop"), CONFIG) as deployment:
        deployment.start()
        assert deployment.base_url.startswith("https://"), deployment.base_url
        client = json.loads(deployment.cli("client", "create", "--name", "interop", "--introspection", "--json"))
        plain = json.loads(deployment.cli("client", "create", "--name", "interop-no-introspection", "--json"))
        deployment.cli("user", "create", USERNAME, "--password-stdin", stdin=PASSWORD + "\n")
        yield Server(
            base_url=deployment.base_url, verify=deployment.verify,
            client_id=client["client_id"], client_secret=client["client_secret"],
            plain_client_id=plain["client_id"], plain_client_secret=plain["client_secret"],
        )


# MARK: - Helpers


def session(server: Server, method: str, *, client: str = "introspection", secret: str | None = None,
            scope: str | None = None) -> OAuth2Session:
    """An Authlib session for one of the fixture's clients, as Authlib's docs build one."""
    client_id, client_secret = (
        (server.client_id, server.client_secret) if client == "introspection"
        else (server.plain_client_id, server.plain_client_secret)
    )
    s = OAuth2Session(
        client_id, secret if secret is not None else client_secret,
        token_endpoint_auth_method=method, revocation_endpoint_auth_method=method,
        scope=scope, default_timeout=30,
    )
    # OAuth2Session is a requests.Session. Its `verify` loses to $REQUESTS_CA_BUNDLE
    # when the session trusts the environment (requests' merge_environment_settings),
    # and nothing from the environment (proxies, .netrc) belongs on a loopback test.
    s.trust_env = False
    s.verify = server.verify
    return s


def fetch_password_token(s: OAuth2Session, server: Server, scope: str | None = None):
    kwargs = {"scope": scope} if scope is not None else {}
    return s.fetch_token(server.token_url, grant_type="password", username=USERNAME, password=PASSWORD, **kwargs)


def assert_no_store(response: requests.Response) -> None:
    assert response.headers.get("Cache-Control") == "no-store", response.headers
    assert response.headers.get("Pragma") == "no-cache", response.headers


def introspect(s: OAuth2Session, server: Server, token: str) -> dict:
    response = s.introspect_token(server.introspect_url, token=token)
    assert response.status_code == 200, response.text
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    assert_no_store(response)
    return response.json()


def assert_active_user_token(body: dict, server: Server, scope: str) -> None:
    assert body["active"] is True, body
    assert body["client_id"] == server.client_id
    assert body["username"] == USERNAME
    assert body["scope"] == canonical(scope)
    assert body["token_type"].lower() == "bearer"
    now = time.time()
    assert isinstance(body["exp"], int) and isinstance(body["iat"], int), body
    assert body["iat"] <= now + 5 and body["exp"] > now, body
    assert abs(body["exp"] - body["iat"] - USER_ACCESS_TOKEN_VALIDITY) <= 1, body


# MARK: - Grants (RFC 6749)


@pytest.mark.parametrize("method", AUTH_METHODS)
def test_password_grant_issues_a_bearer_pair_and_reuses_it(server, method, scope):
    with session(server, method, scope=scope) as s:
        first = fetch_password_token(s, server)
        second = fetch_password_token(s, server)

    # docs/token-endpoint.md, "Success": exactly these members (Authlib adds its own `expires_at`),
    # and an ID token for the openid scope (docs/browser-sign-in.md, "OpenID Connect").
    assert set(first) - {"expires_at"} == {"access_token", "refresh_token", "scope", "token_type", "expires_in", "id_token"}
    assert first["access_token"] and first["refresh_token"]
    assert first["token_type"] == "Bearer"
    assert isinstance(first["expires_in"], int) and 0 < first["expires_in"] <= USER_ACCESS_TOKEN_VALIDITY
    assert first["scope"] == canonical(scope)
    # Reuse mode (the default): the same client, user and scopes get the same tokens back.
    assert second["access_token"] == first["access_token"]
    assert second["refresh_token"] == first["refresh_token"]
    assert second["expires_in"] <= first["expires_in"]


@pytest.mark.parametrize("method", AUTH_METHODS)
def test_client_credentials_grant_issues_an_access_token_without_refresh_token(server, method, scope):
    with session(server, method, scope=scope) as s:
        first = s.fetch_token(server.token_url, grant_type="client_credentials")
        second = s.fetch_token(server.token_url, grant_type="client_credentials")

    assert set(first) - {"expires_at"} == {"access_token", "scope", "token_type", "expires_in"}
    assert "refresh_token" not in first  # RFC 6749 §4.4.3
    assert first["access_token"]
    assert first["token_type"] == "Bearer"
    assert isinstance(first["expires_in"], int) and 0 < first["expires_in"] <= 3600
    assert first["scope"] == canonical(scope)
    assert second["access_token"] == first["access_token"]


@pytest.mark.parametrize("method", AUTH_METHODS)
@pytest.mark.parametrize("scope_on_refresh", [False, True], ids=["no-scope", "same-scope"])
def test_refresh_rotates_and_a_replayed_refresh_token_revokes_the_family(server, method, scope, scope_on_refresh):
    # With the scope on the session, Authlib sends it on the refresh request too
    # (the original set: allowed, RFC 6749 §6); without, the refresh has no scope.
    with session(server, method, scope=scope if scope_on_refresh else None) as s:
        old = fetch_password_token(s, server, None if scope_on_refresh else scope)
        new = s.refresh_token(server.token_url, refresh_token=old["refresh_token"])

        assert new["access_token"] and new["access_token"] != old["access_token"]
        assert new["token_type"] == "Bearer"
        assert new["scope"] == canonical(scope)
        assert isinstance(new["expires_in"], int) and 0 < new["expires_in"] <= USER_ACCESS_TOKEN_VALIDITY
        # renew_refresh_token = true (the default): rotation.
        assert new["refresh_token"] and new["refresh_token"] != old["refresh_token"]
        # The old row is INACTIVE; the new token is the key's active one.
        assert introspect(s, server, old["access_token"]) == INACTIVE
        assert_active_user_token(introspect(s, server, new["access_token"]), server, scope)

        # Replaying the rotated refresh token (RFC 9700 §4.14.2): invalid_grant, and
        # every token descended from the same grant is revoked.
        with pytest.raises(OAuthError) as replay:
            s.refresh_token(server.token_url, refresh_token=old["refresh_token"])
        assert replay.value.error == "invalid_grant"
        assert introspect(s, server, new["access_token"]) == INACTIVE
        assert introspect(s, server, new["refresh_token"]) == INACTIVE
        with pytest.raises(OAuthError) as descendant:
            s.refresh_token(server.token_url, refresh_token=new["refresh_token"])
        assert descendant.value.error == "invalid_grant"

        # The key has no ACTIVE token left, so the password grant issues a new pair.
        again = fetch_password_token(s, server, None if scope_on_refresh else scope)
        assert again["access_token"] not in (old["access_token"], new["access_token"])


# MARK: - Introspection (RFC 7662)


@pytest.mark.parametrize("method", AUTH_METHODS)
def test_introspection_describes_an_active_token(server, method, scope):
    with session(server, method, scope=scope) as s:
        token = fetch_password_token(s, server)
        assert_active_user_token(introspect(s, server, token["access_token"]), server, scope)
        assert introspect(s, server, "no-such-token") == INACTIVE


def test_super_admin_introspects_like_the_seeds_curl(server, scope):
    # The seed: curl -k -u admin:admin -H 'Content-Type: application/x-www-form-urlencoded'
    #           -X POST --data 'token=…' https://localhost:9443/oauth2/introspect
    with session(server, "client_secret_basic", scope=scope) as s:
        token = fetch_password_token(s, server)

    response = requests.post(server.introspect_url, auth=SUPER_ADMIN, data={"token": token["access_token"]}, timeout=30,
                             verify=server.verify)
    assert response.status_code == 200, response.text
    assert_no_store(response)
    assert_active_user_token(response.json(), server, scope)

    response = requests.post(server.introspect_url, auth=SUPER_ADMIN, data={"token": "no-such-token"}, timeout=30,
                             verify=server.verify)
    assert response.status_code == 200, response.text
    assert response.json() == INACTIVE

    # RFC 7662 §2.3: bad credentials at the introspection endpoint are a 401.
    response = requests.post(server.introspect_url, auth=("admin", "not-the-password"),
                             data={"token": token["access_token"]}, timeout=30,
                             verify=server.verify)
    assert response.status_code == 401, response.text


@pytest.mark.parametrize("method", AUTH_METHODS)
def test_a_client_without_introspection_rights_learns_nothing(server, method, scope):
    with session(server, method, scope=scope) as s:
        token = fetch_password_token(s, server)
    with session(server, method, client="plain") as plain:
        response = plain.introspect_token(server.introspect_url, token=token["access_token"])
    # Refused, or told only what RFC 7662 §2.2 allows for tokens it may not see
    # (a 404, an endpoint that is not there, counts as neither).
    assert response.status_code in (400, 401, 403) or (
        response.status_code == 200 and response.json() == INACTIVE), (response.status_code, response.text)
    assert "username" not in response.text


# MARK: - Revocation (RFC 7009)


@pytest.mark.parametrize("method", AUTH_METHODS)
def test_revoking_an_access_token(server, method, scope):
    with session(server, method, scope=scope) as s:
        token = fetch_password_token(s, server)
        response = s.revoke_token(server.revoke_url, token=token["access_token"])
        assert response.status_code == 200, response.text
        assert_no_store(response)
        assert introspect(s, server, token["access_token"]) == INACTIVE

        # No ACTIVE token remains for the key: a new one is issued, not the revoked one.
        again = fetch_password_token(s, server)
        assert again["access_token"] != token["access_token"]

        # RFC 7009 §2.2: an invalid or unknown token is still a 200.
        response = s.revoke_token(server.revoke_url, token="no-such-token")
        assert response.status_code == 200, response.text
        # Revoking twice is no error either.
        response = s.revoke_token(server.revoke_url, token=token["access_token"])
        assert response.status_code == 200, response.text


@pytest.mark.parametrize("method", AUTH_METHODS)
def test_revoking_a_refresh_token_revokes_its_access_token(server, method, scope):
    with session(server, method, scope=scope) as s:
        token = fetch_password_token(s, server)
        response = s.revoke_token(server.revoke_url, token=token["refresh_token"], token_type_hint="refresh_token")
        assert response.status_code == 200, response.text
        # RFC 7009 §2.1: access tokens of the same grant are invalidated too.
        assert introspect(s, server, token["access_token"]) == INACTIVE
        with pytest.raises(OAuthError) as refused:
            s.refresh_token(server.token_url, refresh_token=token["refresh_token"])
        assert refused.value.error == "invalid_grant"


# MARK: - Errors (RFC 6749 §5.2)


@pytest.mark.parametrize("method", AUTH_METHODS)
def test_a_wrong_client_secret_is_invalid_client(server, method, scope):
    with session(server, method, secret="not-the-secret-" + "x" * 32, scope=scope) as s:
        with pytest.raises(OAuthError) as password:
            fetch_password_token(s, server)
        with pytest.raises(OAuthError) as client_credentials:
            s.fetch_token(server.token_url, grant_type="client_credentials")
    assert password.value.error == "invalid_client"
    assert client_credentials.value.error == "invalid_client"


@pytest.mark.parametrize("method", AUTH_METHODS)
def test_a_wrong_password_is_invalid_grant(server, method, scope):
    with session(server, method, scope=scope) as s:
        with pytest.raises(OAuthError) as failure:
            s.fetch_token(server.token_url, grant_type="password", username=USERNAME, password="not-the-password")
    assert failure.value.error == "invalid_grant"
    assert USERNAME in (failure.value.description or "")  # "Authentication failed for alice"
    assert "not-the-password" not in (failure.value.description or "")


@pytest.mark.parametrize("method", AUTH_METHODS)
def test_revocation_and_introspection_reject_a_wrong_client_secret(server, method, scope):
    with session(server, method, scope=scope) as s:
        token = fetch_password_token(s, server)
    with session(server, method, secret="not-the-secret-" + "x" * 32) as s:
        revoked = s.revoke_token(server.revoke_url, token=token["access_token"])
        introspected = s.introspect_token(server.introspect_url, token=token["access_token"])
    # RFC 7009 §2.2.1 → RFC 6749 §5.2, and RFC 7662 §2.3: 401.
    assert revoked.status_code == 401, revoked.text
    assert revoked.json()["error"] == "invalid_client"
    assert introspected.status_code == 401, introspected.text
    # Nothing was revoked by the refused request.
    with session(server, method) as s:
        assert introspect(s, server, token["access_token"])["active"] is True


# MARK: - Plain HTTP


def test_plain_http_when_tls_is_disabled(tmp_path, scope):
    # README, "Configuration: `deployment.toml`": `[server.tls] enabled = false` serves plain HTTP,
    # e.g. behind a TLS-terminating proxy, and generates no certificate.
    config = CONFIG + "\n[server.tls]\nenabled = false\n"
    with Deployment(tmp_path, config) as deployment:
        deployment.start()
        assert deployment.base_url.startswith("http://"), deployment.base_url
        assert not deployment.certificate.exists()
        client = json.loads(deployment.cli("client", "create", "--name", "interop-http", "--json"))
        with OAuth2Session(client["client_id"], client["client_secret"], scope=scope, default_timeout=30) as s:
            token = s.fetch_token(f"{deployment.base_url}/oauth2/token", grant_type="client_credentials")
        assert token["access_token"] and token["scope"] == canonical(scope)
        response = requests.post(f"{deployment.base_url}/oauth2/introspect", auth=SUPER_ADMIN,
                                 data={"token": token["access_token"]}, timeout=30)
        assert response.status_code == 200, response.text
        assert response.json()["active"] is True
