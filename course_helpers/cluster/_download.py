"""Download a component's official release binaries and verify them, or say why not.

Each file is checked against the SHA-256 its project publishes beside it
(``_releases`` says where); a file without a published digest, or whose
digest differs, is never used. The caller runs every binary's ``--version``
before it enters the cache, exactly as after a build.

Example:
    >>> from course_helpers.cluster import _download
    >>> _download.fetch("etcd", ["etcd"], staging, log=print)  # doctest: +SKIP
    downloading etcd-v3.6.10-linux-amd64.tar.gz (24 MB) from https://github.com/...
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from . import _releases

Log = Callable[[str], None]

#: Seconds to wait for a connection or for the next bytes of a response.
TIMEOUT = 30
_CHUNK = 1 << 20
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")


class Unavailable(Exception):
    """The release files cannot be used; the message says why in a few words."""


class Session:
    """Remembers hosts that could not be reached, so an offline install fails fast once per host."""

    def __init__(self) -> None:
        self.unreachable: dict[str, str] = {}
        self._texts: dict[str, str] = {}

    def text(self, url: str) -> str:
        """Return the text at ``url`` (a checksum file), fetched once per session."""
        if url not in self._texts:
            body, _ = self.get(url)
            self._texts[url] = body.decode("utf-8", "replace")
        return self._texts[url]

    def get(self, url: str, dest: Path | None = None) -> tuple[bytes, str]:
        """Return (body, sha256 hex) of ``url``; with ``dest``, stream the body there instead.

        Raises:
            Unavailable: the host is unreachable or the server refused.

        """
        real = _releases.mirrored(url)
        host = urlsplit(real).netloc
        if host in self.unreachable:
            raise Unavailable(self.unreachable[host])
        digest = hashlib.sha256()
        body = bytearray()
        request = Request(real, headers={"User-Agent": "k8s-workloads-course"})
        try:
            with urlopen(request, timeout=TIMEOUT) as response:
                out = dest.open("wb") if dest else None
                try:
                    while chunk := response.read(_CHUNK):
                        digest.update(chunk)
                        if out:
                            out.write(chunk)
                        else:
                            body += chunk
                finally:
                    if out:
                        out.close()
        except HTTPError as exc:
            raise Unavailable(f"{real} answered HTTP {exc.code}") from exc
        except (URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            self.unreachable[host] = f"cannot reach {host} ({reason})"
            raise Unavailable(self.unreachable[host]) from exc
        return bytes(body), digest.hexdigest()


def published_digest(asset: _releases.Asset, text: str) -> str:
    """Return the SHA-256 that ``text`` (the asset's checksum file) gives for the asset.

    Raises:
        Unavailable: the file names no digest for the asset.

    """
    name = asset.filename
    if asset.checksum_format == "github":
        try:
            listed = json.loads(text).get("assets", [])
        except (ValueError, AttributeError):
            listed = []
        for entry in listed if isinstance(listed, list) else []:
            if isinstance(entry, dict) and entry.get("name") == name:
                digest = str(entry.get("digest") or "")
                if digest.startswith("sha256:") and _HEX.match(digest[7:]):
                    return digest[7:].lower()
        raise Unavailable(f"no published SHA-256 for {name}")
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if len(lines) == 1 and len(lines[0]) == 1 and _HEX.match(lines[0][0]):
        return lines[0][0].lower()
    for fields in lines:
        if len(fields) >= 2 and _HEX.match(fields[0]):
            listed_name = fields[-1].lstrip("*")
            if listed_name == name or listed_name.endswith("/" + name):
                return fields[0].lower()
    raise Unavailable(f"no published SHA-256 for {name}")


def _extract(asset: _releases.Asset, path: Path, staging: Path) -> None:
    for binary, member in asset.members.items():
        target = staging / binary
        if not asset.archive:
            path.replace(target)
        elif asset.archive == "zip":
            with zipfile.ZipFile(path) as zipped:
                try:
                    target.write_bytes(zipped.read(member))
                except KeyError as exc:
                    raise Unavailable(f"{asset.filename} has no {member}") from exc
        else:
            with tarfile.open(path, "r:gz") as tar:
                try:
                    source = tar.extractfile(member)
                except KeyError as exc:
                    raise Unavailable(f"{asset.filename} has no {member}") from exc
                if source is None:
                    raise Unavailable(f"{asset.filename}'s {member} is not a file")
                with source, target.open("wb") as out:
                    while chunk := source.read(_CHUNK):
                        out.write(chunk)
        target.chmod(0o755)
    path.unlink(missing_ok=True)


def fetch(
    component: str, names: Iterable[str], staging: Path, log: Log, session: Session | None = None
) -> list[str]:
    """Download ``component``'s binaries ``names`` into ``staging``, each verified by SHA-256.

    Returns the lines to record as their provenance (address and digest).

    Raises:
        Unavailable: downloads are off, the platform or a binary has no
            release file, a server is unreachable or refuses, a digest is
            missing or differs.

    """
    if not _releases.enabled():
        raise Unavailable("COURSE_RELEASES=off")
    platform = _releases.host_platform()
    if platform is None:
        raise Unavailable("no release files for this platform")
    assets = _releases.assets(component, *platform)
    wanted = set(names)
    provided = {b for a in assets for b in a.members}
    if not assets or not wanted <= provided:
        raise Unavailable(f"no release files for {'/'.join(platform)}")
    session = session or Session()
    provenance = []
    for asset in assets:
        if not wanted & set(asset.members):
            continue
        expected = published_digest(asset, session.text(asset.checksum_url))
        log(f"  downloading {asset.filename} from {_releases.mirrored(asset.url)}")
        path = staging / f".download-{asset.filename}"
        _, got = session.get(asset.url, path)
        if got != expected:
            path.unlink(missing_ok=True)
            raise Unavailable(
                f"{asset.filename} does not match its published SHA-256 "
                f"(got {got[:12]}..., published {expected[:12]}...)"
            )
        _extract(asset, path, staging)
        provenance.append(f"{asset.url} sha256:{got}")
    return provenance
