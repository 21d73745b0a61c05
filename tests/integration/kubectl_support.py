"""What integration tests share for running the course's kubectl on the test cluster."""

import subprocess

from course_helpers.kube import _kubectl


def kubectl_run(*args: str) -> str:
    """Run the pinned kubectl on the helpers' cluster; return its output, failing on an error."""
    done = subprocess.run(
        [str(_kubectl.kubectl()), "--kubeconfig", str(_kubectl.kubeconfig_path()), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
