"""Fixtures every interoperability test module uses (the server fixtures are each module's own)."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def scope(request: pytest.FixtureRequest) -> str:
    """A scope set of this test's own: `openid` plus a `device_` scope named after the test.

    A `device_` scope is granted without validation and is part of the token key
    (docs/token-renewal.md), so each test has a key of its own and none sees another's tokens,
    whatever order they run in.
    """
    return "openid device_" + re.sub(r"[^A-Za-z0-9]+", "_", request.node.name).strip("_")
