"""What Binder would build, without Docker: repo2docker's Dockerfile for this repository.

``jupyter-repo2docker --no-build --debug`` prints the Dockerfile mybinder.org
would build. It must take binder/ (not the root files), install the course
package with pip from binder/requirements.txt, run binder/postBuild as the
notebook user, and start every session through binder/start.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dockerfile() -> str:
    r2d = shutil.which("jupyter-repo2docker")
    if r2d is None:
        pytest.skip("jupyter-repo2docker is not installed (it is in the [test] extra)")
    # mybinder.org builds as uid 1000 `jovyan`; without these it would use ours.
    cmd = [r2d, "--no-build", "--debug", "--user-id", "1000", "--user-name", "jovyan", str(REPO)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = proc.stdout + proc.stderr
    assert "FROM " in text, text[-3000:]
    return text


def _user_before(text: str, marker: str) -> str:
    head = text[: text.index(marker)]
    return re.findall(r"^USER (\S+)$", head, flags=re.M)[-1]


def test_binder_folder_is_what_binder_reads(dockerfile: str) -> None:
    assert "environment.yml" not in dockerfile, "the root environment.yml must be ignored"
    assert "python=3.12" in dockerfile
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile


def test_the_course_package_is_installed_after_the_repository_is_copied(dockerfile: str) -> None:
    copy = dockerfile.index("COPY --chown=1000:1000 src/ ${REPO_DIR}/")
    install = dockerfile.index('-r "binder/requirements.txt"')
    assert copy < install, "`-e .` needs the repository in place"
    assert _user_before(dockerfile, '-r "binder/requirements.txt"') == "${NB_USER}"


def test_post_build_runs_as_the_notebook_user(dockerfile: str) -> None:
    assert "RUN ./binder/postBuild" in dockerfile
    assert _user_before(dockerfile, "RUN ./binder/postBuild") == "${NB_USER}"
    assert dockerfile.index('-r "binder/requirements.txt"') < dockerfile.index("./binder/postBuild")


def test_every_session_starts_through_binder_start(dockerfile: str) -> None:
    assert 'ENV R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in dockerfile
    assert 'ENTRYPOINT ["/usr/local/bin/repo2docker-entrypoint"]' in dockerfile
