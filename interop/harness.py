"""Starting and stopping the real executable for the interoperability tests.

A :class:`Deployment` is a throw-away folder with a ``deployment.toml``, the
``token-authority`` executable run in it as a server (``serve``) and as the
operator's CLI (``client create``, ``keys rotate``, …), and the HTTPS trust that
a client needs: the self-signed certificate the server generates on first start
(``[server.tls]``, README, "Configuration: ``deployment.toml``"), which ``requests``
verifies like any other.

The executable is ``$TOKEN_AUTHORITY_BIN``, else ``.build/debug/token-authority``.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent


def executable() -> Path:
    override = os.environ.get("TOKEN_AUTHORITY_BIN")
    if override:
        path = Path(override)
        if not os.access(path, os.X_OK):
            pytest.exit(f"TOKEN_AUTHORITY_BIN={override} is not an executable file", returncode=2)
        return path
    path = REPOSITORY / ".build" / "debug" / "token-authority"
    if not path.exists():
        # scripts/test builds first; this only spares a lone `pytest interop` the step.
        subprocess.run(["swift", "build", "--product", "token-authority"], cwd=REPOSITORY, check=True)
    return path


def free_port() -> int:
    """A loopback port nobody listens on right now, for a configuration that must
    name its port before the server starts (an issuer URL, RFC 8414 §2)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return ""


class Deployment:
    """One server process and its folder. Use as a context manager: the server
    is stopped (SIGTERM, then checked for a clean exit) whatever happens."""

    def __init__(self, directory: Path, config: str):
        self.directory = directory
        self.config = directory / "deployment.toml"
        self.config.write_text(config)
        self.executable = executable()
        self.process: subprocess.Popen | None = None
        self.base_url = ""
        self._stdout = directory / "serve.stdout"
        self._stderr = directory / "serve.stderr"

    # The paths of the defaults (README, "Configuration: `deployment.toml`"), relative to the
    # working directory.
    @property
    def certificate(self) -> Path:
        return self.directory / "data" / "tls" / "server.crt"

    @property
    def database(self) -> Path:
        return self.directory / "data" / "token-authority.sqlite3"

    @property
    def verify(self) -> str | bool:
        """What `requests` takes as `verify=`: the generated certificate for HTTPS."""
        return str(self.certificate) if self.base_url.startswith("https://") else True

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def cli(self, *arguments: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [str(self.executable), *arguments, "--config", str(self.config)],
            cwd=self.directory, input=stdin, capture_output=True, text=True, timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"token-authority {arguments[:2]} exited {result.returncode}:\n{result.stderr}")
        return result.stdout

    def start(self, timeout: float = 60) -> "Deployment":
        # Output goes to files, not pipes: nothing blocks on a full pipe, and the log
        # stays readable for the failure messages below.
        with open(self._stdout, "wb") as stdout, open(self._stderr, "wb") as stderr:
            self.process = subprocess.Popen(
                [str(self.executable), "serve", "--config", str(self.config)],
                cwd=self.directory, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
            )
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(r"token-authority listening on (https?://\S+)", self._stdout.read_text(errors="replace"))
            if match:
                self.base_url = match.group(1)
                return self
            if self.process.poll() is not None:
                raise RuntimeError(f"token-authority serve exited {self.process.returncode}:\n{_tail(self._stderr)}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"token-authority serve printed no 'listening on' line in {timeout} s:\n"
                                   f"{_tail(self._stderr)}")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                raise RuntimeError(f"token-authority serve did not stop within 30 s of SIGTERM:\n{_tail(self._stderr)}")
        if process.returncode != 0:
            raise RuntimeError(f"token-authority serve exited {process.returncode} on SIGTERM:\n{_tail(self._stderr)}")

    def __enter__(self) -> "Deployment":
        return self

    def __exit__(self, *exc_info) -> None:
        if exc_info[0] is None:
            self.stop()
        else:
            try:
                self.stop()
            except RuntimeError:
                pass  # the original failure is the one to report; the process is gone either way


def canonical(scope: str) -> str:
    """A scope set as the server writes it (docs/token-renewal.md, "The key"): deduplicated,
    sorted, space-joined."""
    return " ".join(sorted(set(scope.split())))
