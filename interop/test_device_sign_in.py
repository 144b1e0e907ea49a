"""Devices sign in, end to end (RFC 8628; docs/device-sign-in.md; README, "Devices sign in"):
a device process asks for a code and polls the token endpoint while headless Chromium, the
user's phone, enters the code at /device, signs in and approves or denies. On SQLite, and on
PostgreSQL when the tests have a cluster (scripts/test starts one).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import uuid

import pytest
import requests

from browser import chromium
from harness import Deployment, free_port

USERNAME = "dave"
PASSWORD = "dave's password: a long and private phrase"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
POSTGRES = os.environ.get("TOKEN_AUTHORITY_TEST_POSTGRES_URL")


def database_section(store: str, tmp_path_factory) -> str:
    if store == "sqlite":
        return ""
    if not POSTGRES:
        pytest.skip("no PostgreSQL cluster (TOKEN_AUTHORITY_TEST_POSTGRES_URL); scripts/test starts one")
    name = "interop_" + uuid.uuid4().hex[:12]
    subprocess.run(["psql", "-X", "-q", "-d", POSTGRES, "-c", f"CREATE DATABASE {name}"], check=True)
    return f'[database]\ntype = "postgresql"\nurl = "{POSTGRES.rsplit("/", 1)[0]}/{name}"\npool_size = 4\n'


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def deployment(request, tmp_path_factory: pytest.TempPathFactory):
    port = free_port()
    config = f"""\
[server]
hostname = "127.0.0.1"
port = {port}

[oauth]
issuer = "https://127.0.0.1:{port}"

[oauth.token_renewal]
renew_access_token_per_request = true

[oauth.device_authorization]
interval = 1

[super_admin]
password = "admin"

{database_section(request.param, tmp_path_factory)}
"""
    with Deployment(tmp_path_factory.mktemp("token-authority-device"), config) as deployment:
        deployment.start()
        deployment.cli("user", "create", USERNAME, "--password-stdin", stdin=PASSWORD + "\n")
        yield deployment


@pytest.fixture
def browser():
    driver = chromium()
    yield driver
    driver.quit()


def tv(deployment: Deployment) -> str:
    return json.loads(deployment.cli("client", "create", "--name", "Living-room TV", "--public",
                                     "--grant-types", f"{DEVICE_GRANT},refresh_token", "--json"))["client_id"]


def start(deployment: Deployment, client_id: str, scope: str) -> dict:
    answer = requests.post(deployment.base_url + "/oauth2/device_authorization", verify=deployment.verify,
                           timeout=30, data={"client_id": client_id, "scope": scope})
    assert answer.status_code == 200, answer.text
    return answer.json()


class Poller(threading.Thread):
    """The device: polls every `interval` seconds until it gets an answer other than
    authorization_pending or slow_down (which adds 5 s, RFC 8628 §3.5)."""

    def __init__(self, deployment: Deployment, client_id: str, started: dict) -> None:
        super().__init__(daemon=True)
        self.deployment, self.client_id, self.started = deployment, client_id, started
        self.answer: dict | None = None
        self.pending_polls = 0

    def run(self) -> None:
        interval = self.started["interval"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(interval)
            reply = requests.post(self.deployment.base_url + "/oauth2/token", verify=self.deployment.verify,
                                  timeout=30, data={"grant_type": DEVICE_GRANT, "client_id": self.client_id,
                                                    "device_code": self.started["device_code"]})
            body = reply.json()
            if body.get("error") == "authorization_pending":
                self.pending_polls += 1
                continue
            if body.get("error") == "slow_down":
                interval += 5
                continue
            self.answer = body
            return


def approve_in_browser(browser, started: dict, decision: str = "approve", *, sign_in: bool = True) -> None:
    from selenium.webdriver.common.by import By

    browser.get(started["verification_uri_complete"])
    if sign_in and browser.find_elements(By.ID, "password"):
        browser.find_element(By.ID, "username").send_keys(USERNAME)
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.ID, "sign-in").click()
    deadline = time.monotonic() + 15
    while not browser.find_elements(By.ID, decision) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Living-room TV" in browser.page_source
    browser.find_element(By.ID, decision).click()


def test_the_tv_polls_while_the_user_approves_in_a_browser(deployment, browser):
    client_id = tv(deployment)
    started = start(deployment, client_id, "openid device_tv")
    poller = Poller(deployment, client_id, started)
    poller.start()
    time.sleep(2.5)  # the TV has polled, and been told to wait
    approve_in_browser(browser, started)
    poller.join(30)
    assert poller.pending_polls >= 1
    assert poller.answer and poller.answer.get("access_token"), poller.answer
    assert poller.answer["scope"] == "device_tv openid" and poller.answer["id_token"]
    # The device code worked once
    again = requests.post(deployment.base_url + "/oauth2/token", verify=deployment.verify, timeout=30,
                          data={"grant_type": DEVICE_GRANT, "client_id": client_id,
                                "device_code": started["device_code"]})
    assert again.json()["error"] == "invalid_grant"


def test_a_denial_reaches_the_device_as_access_denied(deployment, browser):
    client_id = tv(deployment)
    started = start(deployment, client_id, "device_tv")
    poller = Poller(deployment, client_id, started)
    poller.start()
    approve_in_browser(browser, started, "deny")
    poller.join(30)
    assert poller.answer == {"error": "access_denied", "error_description": "The user denied the request."}


def test_a_tv_and_an_ipad_token_live_side_by_side_in_renewal_mode(deployment, browser):
    client_id = tv(deployment)
    tokens = {}
    for scope in ("device_tv", "device_ipad"):
        started = start(deployment, client_id, scope)
        approve_in_browser(browser, started)
        poller = Poller(deployment, client_id, started)
        poller.start()
        poller.join(30)
        tokens[scope] = poller.answer["access_token"]
    assert tokens["device_tv"] != tokens["device_ipad"]
    # Both stay active: renewing one device's token never touches the other's
    for token in tokens.values():
        answer = requests.post(deployment.base_url + "/oauth2/introspect", verify=deployment.verify, timeout=30,
                               auth=("admin", "admin"), data={"token": token})
        assert answer.json()["active"] is True


def test_an_expired_code_is_expired_token_and_refused_at_the_device_page(tmp_path, browser):
    from selenium.webdriver.common.by import By

    port = free_port()
    config = (f'[server]\nhostname = "127.0.0.1"\nport = {port}\n[super_admin]\npassword = "admin"\n'
              '[oauth.device_authorization]\nexpires_in = "1s"\ninterval = 1\n')
    with Deployment(tmp_path, config) as deployment:
        deployment.start()
        client_id = tv(deployment)
        started = start(deployment, client_id, "device_tv")
        time.sleep(1.5)
        reply = requests.post(deployment.base_url + "/oauth2/token", verify=deployment.verify, timeout=30,
                              data={"grant_type": DEVICE_GRANT, "client_id": client_id,
                                    "device_code": started["device_code"]})
        assert reply.json()["error"] == "expired_token"
        browser.get(started["verification_uri_complete"])
        assert browser.find_elements(By.ID, "device-error"), browser.page_source[:400]
