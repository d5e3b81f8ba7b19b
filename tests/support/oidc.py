"""A real OpenID provider on loopback (npm's oidc-provider, tests/support/oidc_provider.mjs)
and a client that signs in through its development login pages without a browser."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin

import requests
from joserfc.jwk import RSAKey

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tests" / "support" / "oidc_provider.mjs"
CLIENT_ID, CLIENT_SECRET = "eventhub", "eventhub-test-secret"
ACCOUNTS = {
    "anne": {"email": "anne.berg@odense.example.dk", "email_verified": True,
             "name": "Anne Berg"},
    "ole": {"email": "ole@odense.example.dk", "email_verified": False, "name": "Ole"},
}


def signing_key():
    """The provider's signing key (the tests sign their own bad tokens with it too)."""
    return RSAKey.generate_key(2048, parameters={"kid": "test-1"}, private=True)


@dataclass
class Provider:
    port: int
    redirect_uris: list[str]
    key: object = field(default_factory=signing_key)
    process: subprocess.Popen | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Provider:
        node = shutil.which("node")
        assert node, "node is missing (CI installs nodejs; npm ci installs oidc-provider)"
        assert (REPO / "node_modules" / "oidc-provider").is_dir(), \
            "oidc-provider is missing: run npm ci --ignore-scripts"
        config = {"port": self.port, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                  "redirect_uris": self.redirect_uris, "accounts": ACCOUNTS,
                  "jwks": {"keys": [{**self.key.as_dict(private=True), "use": "sig",
                                     "alg": "RS256"}]}}
        env = {**os.environ, "OIDC_TEST_CONFIG": json.dumps(config)}
        self.process = subprocess.Popen([node, str(SCRIPT)], cwd=REPO, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(self.issuer + "/.well-known/openid-configuration",
                                timeout=2).ok:
                    return self
            except requests.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                out = self.process.stdout.read().decode(errors="replace") if \
                    self.process.poll() is not None else ""
                raise RuntimeError(f"oidc-provider did not start:\n{out}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            if self.process.stdout is not None:
                self.process.stdout.close()


def sign_in_at_provider(authorize_url: str, login: str, redirect_prefix: str) -> str:
    """Follow the provider's login and consent pages as a person would (any password is
    accepted by its development pages); returns the redirect back to ``redirect_prefix``."""
    http = requests.Session()
    url = authorize_url
    for _ in range(20):
        response = http.get(url, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            if url.startswith(redirect_prefix):
                return url
            continue
        page = response.text
        action = page.split('action="', 1)[1].split('"', 1)[0]
        data = ({"prompt": "login", "login": login, "password": "whatever"}
                if 'name="login"' in page else {"prompt": "consent"})
        response = http.post(urljoin(url, action), data=data, allow_redirects=False,
                             timeout=10)
        url = urljoin(url, response.headers["Location"])
        if url.startswith(redirect_prefix):
            return url
    raise AssertionError("the provider never sent us back")
