"""A real OpenID Connect relying party: Apache 2.4 with Debian's mod_auth_openidc, run from a
folder of its own on a loopback port, protecting `/protected/` with token-authority as its
provider (docs/browser-sign-in.md). The protected page answers "Signed in as USER" from the
claims mod_auth_openidc took from the ID token, so reaching it proves the whole sign-in.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from pathlib import Path

from harness import free_port

MODULES = Path("/usr/lib/apache2/modules")


class Apache:
    """Register `redirect_uri` as a client's first, then `configure` with the client's credentials."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.redirect_uri = f"http://127.0.0.1:{self.port}/protected/redirect_uri"
        self.config = directory / "apache.conf"

    def configure(self, *, provider: str, client_id: str, client_secret: str) -> "Apache":
        directory = self.directory
        # As root, Apache hands requests to an unprivileged user; it reads no file of this folder.
        user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
        self.config.write_text(f"""\
ServerName 127.0.0.1
Listen 127.0.0.1:{self.port}
PidFile {directory}/apache.pid
DefaultRuntimeDir {directory}
ErrorLog {directory}/error.log
LogLevel warn
{user}
LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authn_core_module {MODULES}/mod_authn_core.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule authz_user_module {MODULES}/mod_authz_user.so
LoadModule auth_openidc_module {MODULES}/mod_auth_openidc.so

OIDCProviderMetadataURL {provider}/.well-known/openid-configuration
OIDCSSLValidateServer Off
OIDCClientID {client_id}
OIDCClientSecret {client_secret}
OIDCRedirectURI {self.redirect_uri}
OIDCCryptoPassphrase {secrets.token_urlsafe(32)}
OIDCScope "openid"
OIDCPKCEMethod S256
OIDCRemoteUserClaim sub

<Location /protected>
    AuthType openid-connect
    Require valid-user
    ErrorDocument 404 "Signed in as %{{REMOTE_USER}}"
</Location>
""")
        return self

    @property
    def protected_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/protected/page"

    def run(self, action: str) -> None:
        result = subprocess.run(["/usr/sbin/apache2", "-f", str(self.config), "-k", action],
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"apache2 -k {action} exited {result.returncode}: {result.stderr}\n{self.log()}")

    def start(self) -> "Apache":
        self.run("start")
        deadline = time.monotonic() + 15
        while not (self.directory / "apache.pid").exists():
            if time.monotonic() > deadline:
                raise RuntimeError(f"apache2 did not start:\n{self.log()}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        self.run("stop")

    def log(self) -> str:
        path = self.directory / "error.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""
