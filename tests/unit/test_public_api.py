import subprocess
import sys

import course_helpers as ch


def test_every_public_name_resolves_and_is_listed() -> None:
    assert set(ch.__all__) == set(ch._EXPORTS)
    for name in ch.__all__:
        assert getattr(ch, name) is not None


def test_the_cli_does_not_load_the_notebook_stack() -> None:
    code = (
        "import sys, course_helpers.cli; "
        "print(sorted(m for m in ('pandas', 'plotly', 'ipywidgets') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
