"""Browser sign-in in a real browser (docs/browser-sign-in.md; README, "Browser sign-in"):
headless Chromium goes from an app's authorization URL to token-authority's login page, signs
in, and comes back to the app's redirect URI with a code, which the app, Authlib, exchanges
with PKCE. A second app signs in without the login page; logout ends the session.
"""

from __future__ import annotations

import hashlib
import base64
import json
import time

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt as jose_jwt
from joserfc.jwk import KeySet

from browser import Callback, chromium
from harness import Deployment, free_port

USERNAME = "carol"
PASSWORD = "carol's password: four random words"
PRODUCT = "Acme Sign-In"


@pytest.fixture(scope="module")
def app_callback():
    callback = Callback()
    yield callback
    callback.close()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory):
    port = free_port()
    config = f"""\
[server]
hostname = "127.0.0.1"
port = {port}

[oauth]
issuer = "https://127.0.0.1:{port}"

[super_admin]
password = "admin"

[sign_in]
product_name = "{PRODUCT}"
"""
    with Deployment(tmp_path_factory.mktemp("token-authority-browser"), config) as deployment:
        deployment.start()
        deployment.cli("user", "create", USERNAME, "--password-stdin", stdin=PASSWORD + "\n")
        yield deployment


@pytest.fixture
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def register(deployment: Deployment, callback: Callback, *arguments: str) -> dict:
    return json.loads(deployment.cli(
        "client", "create", "--name", "web app", "--redirect-uri", callback.uri(),
        "--post-logout-redirect-uri", callback.uri("/signed-out"), "--json", *arguments))


def app_session(deployment: Deployment, callback: Callback, client: dict) -> OAuth2Session:
    """The app's OAuth client, as Authlib's documentation builds one: PKCE S256, openid."""
    session = OAuth2Session(
        client["client_id"], client.get("client_secret"), scope="openid", redirect_uri=callback.uri(),
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic" if "client_secret" in client else "none", default_timeout=30)
    # A requests.Session's `verify` loses to $REQUESTS_CA_BUNDLE when it trusts the environment.
    session.trust_env = False
    session.verify = deployment.verify
    return session


def authorization_url(deployment: Deployment, session: OAuth2Session, state: str, nonce: str) -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(hashlib.sha256(state.encode()).digest()).decode().rstrip("=") + "x" * 10
    url, _ = session.create_authorization_url(
        deployment.base_url + "/oauth2/authorize", state=state, nonce=nonce, code_verifier=verifier)
    return url, verifier


def id_token_claims(deployment: Deployment, id_token: str) -> dict:
    """The claims of an ID token whose ES256 signature verifies against /oauth2/jwks."""
    keys = KeySet.import_key_set(requests.get(deployment.base_url + "/oauth2/jwks", verify=deployment.verify,
                                              timeout=30).json())
    return jose_jwt.decode(id_token, keys, algorithms=["ES256"]).claims


def at_hash(access_token: str) -> str:
    """OpenID Connect Core §3.1.3.6 for ES256: the left half of the SHA-256, base64url."""
    digest = hashlib.sha256(access_token.encode()).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def wait_for(browser, condition, what: str, timeout: float = 15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"waited {timeout} s for {what}; the browser is at {browser.current_url}")


def sign_in(browser, username: str = USERNAME, password: str = PASSWORD) -> None:
    from selenium.webdriver.common.by import By

    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.ID, "sign-in").click()


def at_login_page(browser) -> bool:
    from selenium.webdriver.common.by import By

    return bool(browser.find_elements(By.ID, "password"))


def test_sign_in_then_exchange_the_code_with_pkce(deployment, app_callback, browser):
    from selenium.webdriver.common.by import By

    client = register(deployment, app_callback)
    session = app_session(deployment, app_callback, client)
    url, verifier = authorization_url(deployment, session, "state-1", "nonce-1")

    # The browser goes to the authorization URL and finds the login page
    browser.get(url)
    assert at_login_page(browser), browser.page_source[:500]
    assert PRODUCT in browser.page_source and "web app" in browser.page_source
    labels = {label.get_attribute("for") for label in browser.find_elements(By.TAG_NAME, "label")}
    assert labels == {"username", "password"}
    # When the user signs in
    sign_in(browser)
    wait_for(browser, lambda: browser.current_url.startswith(app_callback.uri()), "the app's redirect URI")
    query = app_callback.last()
    assert query["state"] == "state-1" and query["iss"] == deployment.base_url and len(query["code"]) == 22

    # Then the app exchanges the code with its verifier and gets the pair and an ID token
    token = session.fetch_token(deployment.base_url + "/oauth2/token", grant_type="authorization_code",
                                code=query["code"], code_verifier=verifier)
    assert {"access_token", "refresh_token", "id_token", "scope", "token_type", "expires_in"} <= set(token)
    claims = id_token_claims(deployment, token["id_token"])
    assert claims["iss"] == deployment.base_url and claims["sub"] == USERNAME
    assert claims["aud"] in (client["client_id"], [client["client_id"]]) and claims["nonce"] == "nonce-1"
    assert claims["at_hash"] == at_hash(token["access_token"])
    assert abs(claims["auth_time"] - time.time()) < 120

    # And the code works once: the replay is refused and the tokens revoked
    replay = requests.post(deployment.base_url + "/oauth2/token", verify=deployment.verify, timeout=30,
                           auth=(client["client_id"], client["client_secret"]),
                           data={"grant_type": "authorization_code", "code": query["code"],
                                 "redirect_uri": app_callback.uri(), "code_verifier": verifier})
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    userinfo = requests.get(deployment.base_url + "/oauth2/userinfo", verify=deployment.verify, timeout=30,
                            headers={"Authorization": "Bearer " + token["access_token"]})
    assert userinfo.status_code == 401


def test_a_second_app_signs_in_without_the_login_page(deployment, app_callback, browser):
    first = register(deployment, app_callback)
    second = register(deployment, app_callback)
    url, _ = authorization_url(deployment, app_session(deployment, app_callback, first), "s-first", "n")
    browser.get(url)
    sign_in(browser)
    wait_for(browser, lambda: browser.current_url.startswith(app_callback.uri()), "the first app")

    # The second app's authorization URL leads straight back to it, with a code
    url, verifier = authorization_url(deployment, app_session(deployment, app_callback, second), "s-second", "n")
    browser.get(url)
    wait_for(browser, lambda: app_callback.last().get("state") == "s-second", "the second app")
    assert not at_login_page(browser)
    token = app_session(deployment, app_callback, second).fetch_token(
        deployment.base_url + "/oauth2/token", grant_type="authorization_code", code=app_callback.last()["code"],
        code_verifier=verifier)
    assert token["id_token"]


def test_a_wrong_password_shows_the_login_page_again_with_one_message(deployment, app_callback, browser):
    from selenium.webdriver.common.by import By

    client = register(deployment, app_callback)
    url, _ = authorization_url(deployment, app_session(deployment, app_callback, client), "s-wrong", "n")
    browser.get(url)
    sign_in(browser, password="not the password")
    wait_for(browser, lambda: bool(browser.find_elements(By.ID, "login-error")), "the error message")
    assert browser.find_element(By.ID, "login-error").text == "The username or password is incorrect."
    assert browser.find_element(By.ID, "password").get_attribute("aria-describedby") == "login-error"
    assert not app_callback.received or app_callback.last().get("state") != "s-wrong"
    # The right password then signs in from the same page
    browser.find_element(By.ID, "username").clear()
    sign_in(browser)
    wait_for(browser, lambda: app_callback.received and app_callback.last().get("state") == "s-wrong", "the app")


def test_logout_ends_the_session(deployment, app_callback, browser):
    client = register(deployment, app_callback)
    url, _ = authorization_url(deployment, app_session(deployment, app_callback, client), "s-out", "n")
    browser.get(url)
    sign_in(browser)
    wait_for(browser, lambda: browser.current_url.startswith(app_callback.uri()), "the app")

    browser.get(f"{deployment.base_url}/oauth2/logout?client_id={client['client_id']}"
                f"&post_logout_redirect_uri={app_callback.uri('/signed-out')}&state=bye")
    wait_for(browser, lambda: app_callback.last().get("_path") == "/signed-out", "the app's signed-out page")
    assert app_callback.last()["state"] == "bye"
    # The next sign-in asks for the password again
    url, _ = authorization_url(deployment, app_session(deployment, app_callback, client), "s-again", "n")
    browser.get(url)
    assert at_login_page(browser)


def test_a_public_client_signs_in_with_pkce_and_no_secret(deployment, app_callback, browser):
    client = register(deployment, app_callback, "--public")
    assert "client_secret" not in client
    session = app_session(deployment, app_callback, client)
    url, verifier = authorization_url(deployment, session, "s-public", "n")
    browser.get(url)
    sign_in(browser)
    wait_for(browser, lambda: browser.current_url.startswith(app_callback.uri()), "the app")
    token = session.fetch_token(deployment.base_url + "/oauth2/token", grant_type="authorization_code",
                                code=app_callback.last()["code"], code_verifier=verifier)
    assert token["access_token"] and token["refresh_token"]
    # Its refresh token rotates on use
    refreshed = session.refresh_token(deployment.base_url + "/oauth2/token", refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]
    # And the refresh renews the ID token for the same sign-in (docs/browser-sign-in.md, "OpenID
    # Connect"): the same sub, aud and auth_time, no nonce, at_hash of the new access token
    original = id_token_claims(deployment, token["id_token"])
    renewed = id_token_claims(deployment, refreshed["id_token"])
    assert renewed["iss"] == original["iss"] and renewed["sub"] == original["sub"] == USERNAME
    assert renewed["aud"] == original["aud"] and renewed["auth_time"] == original["auth_time"]
    assert "nonce" not in renewed and renewed["iat"] >= original["iat"]
    assert renewed["at_hash"] == at_hash(refreshed["access_token"])


def test_apache_mod_auth_openidc_signs_in_through_token_authority(deployment, browser, tmp_path):
    """A real relying party: Apache's mod_auth_openidc discovers the provider, sends the browser
    to the login page, exchanges the code with PKCE and validates the ID token."""
    from browser import require
    from relying_party import Apache

    require("/usr/sbin/apache2", "apache2")
    require("/usr/lib/apache2/modules/mod_auth_openidc.so", "libapache2-mod-auth-openidc")
    apache = Apache(tmp_path)
    client = json.loads(deployment.cli("client", "create", "--name", "Apache", "--redirect-uri",
                                       apache.redirect_uri, "--json"))
    apache.configure(provider=deployment.base_url, client_id=client["client_id"],
                     client_secret=client["client_secret"])
    apache.start()
    try:
        browser.get(apache.protected_url)
        wait_for(browser, lambda: at_login_page(browser), "token-authority's login page")
        assert "Apache" in browser.page_source
        sign_in(browser)
        wait_for(browser, lambda: "Signed in as " + USERNAME in browser.page_source, "the protected page",
                 timeout=20)
        assert browser.current_url.startswith(f"http://127.0.0.1:{apache.port}/protected/")
    except AssertionError as failure:
        raise AssertionError(f"{failure}\napache's log:\n{apache.log()}") from None
    finally:
        apache.stop()
