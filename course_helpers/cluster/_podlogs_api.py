"""The pod-log writer's few API calls (list, watch, create), over HTTPS with the standard library.

Example:
    >>> ApiError(404, "not found").status
    404
"""

from __future__ import annotations

import json
import os
import ssl
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml


class ApiError(Exception):
    """An HTTP error from the API server."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(f"{status}: {text[:300]}")
        self.status = status


class Api:
    """The few API calls the writer makes, over HTTPS with the kubeconfig's credentials.

    The standard library is enough for a list, a watch and a create, and keeps
    this long-lived process small (the kubernetes client alone is ~35 MB).
    """

    def __init__(self, kubeconfig: str, context: str | None) -> None:
        config = yaml.safe_load(Path(kubeconfig).read_text())
        name = context or config["current-context"]
        ctx = next(c["context"] for c in config["contexts"] if c["name"] == name)
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == ctx["cluster"])
        users = config.get("users") or []
        user: dict[str, Any] = next((u["user"] for u in users if u["name"] == ctx.get("user")), {})
        self.server = cluster["server"].rstrip("/")
        self.ssl = ssl.create_default_context(
            cafile=cluster.get("certificate-authority"),
            cadata=_b64(cluster.get("certificate-authority-data")),
        )
        cert, key = user.get("client-certificate"), user.get("client-key")
        if user.get("client-certificate-data"):
            cert, key = _private_file(user["client-certificate-data"], user["client-key-data"])
        if cert:
            self.ssl.load_cert_chain(cert, key)
        self.headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if user.get("token"):
            self.headers["Authorization"] = f"Bearer {user['token']}"

    def _open(self, method: str, path: str, body: Any, timeout: float) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.server + path, data=data, headers=self.headers, method=method
        )
        try:
            return urllib.request.urlopen(request, context=self.ssl, timeout=timeout)
        except urllib.error.HTTPError as exc:
            raise ApiError(exc.code, exc.read().decode(errors="replace")) from None

    def call(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        """Return the decoded JSON answer of one request."""
        with self._open(method, path, body, timeout) as response:
            return json.loads(response.read())

    def watch(self, path: str, timeout: float) -> Iterator[dict[str, Any]]:
        """Yield the events of a watch request until the server ends it."""
        with self._open("GET", path, None, timeout) as response:
            for line in response:
                if line.strip():
                    yield json.loads(line)


def _b64(data: str | None) -> str | None:
    import base64

    return base64.b64decode(data).decode() if data else None


def _private_file(cert_data: str, key_data: str) -> tuple[str, str]:
    """Write inline client credentials to mode-0600 files (ssl loads files only)."""
    paths = []
    for data in (cert_data, key_data):
        fd, path = tempfile.mkstemp(prefix="podlogs-", suffix=".pem")
        with os.fdopen(fd, "w") as out:
            out.write(_b64(data) or "")
        paths.append(path)
    return paths[0], paths[1]
