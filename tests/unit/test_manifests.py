from __future__ import annotations

import pytest
import yaml

from course_helpers.errors import ManifestError
from course_helpers.kube import _manifests


def test_every_shipped_manifest_parses_and_is_namespaced_kinds_only() -> None:
    names = _manifests.available()
    assert "statefulset-web" in names and "daemonset-log-collector" in names
    for name in names:
        docs = _manifests.parse(_manifests.manifest(name), name)
        for doc in docs:
            assert doc["kind"] not in ("Namespace", "Node", "ClusterRole", "StorageClass")
            assert "namespace" not in doc["metadata"], f"{name} must not pin a namespace"


def test_unknown_manifest_suggests_close_names() -> None:
    with pytest.raises(ManifestError, match="Did you mean statefulset-web"):
        _manifests.manifest("statefulset-wbe")


def test_invalid_yaml_says_where() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n spec: {}\n"
    with pytest.raises(ManifestError, match=r"not valid YAML at line \d+, column \d+"):
        _manifests.parse(text)


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("kind: Pod\nmetadata: {name: a}\n", "apiVersion"),
        ("apiVersion: v1\nmetadata: {name: a}\n", "kind"),
        ("apiVersion: v1\nkind: Pod\nmetadata: {}\n", "metadata.name"),
    ],
)
def test_documents_missing_required_fields_are_named(text: str, missing: str) -> None:
    with pytest.raises(ManifestError, match=f"missing {missing}"):
        _manifests.parse(text)


def test_empty_and_scalar_documents_are_refused() -> None:
    with pytest.raises(ManifestError, match="is empty"):
        _manifests.parse("---\n")
    with pytest.raises(ManifestError, match="not a mapping"):
        _manifests.parse("just a string")


def test_yaml_text_is_told_apart_from_manifest_names() -> None:
    assert _manifests.kubectl_file("job-single") == "manifests/job-single.yaml"
    assert _manifests.kubectl_file("kind: Job\n") == "-"


def test_huge_immutable_field_dumps_are_trimmed() -> None:
    class Refusal(Exception):
        body = yaml.safe_dump(
            {
                "message": 'Job.batch "x" is invalid: spec.template: Invalid '
                "value: {" + "a" * 500 + "}: field is immutable"
            }
        )

    message = _manifests.api_message(Refusal())  # type: ignore[arg-type]
    assert (
        message == 'Job.batch "x" is invalid: spec.template: Invalid value: {...}: '
        "field is immutable"
    )


def test_job_manifests_teach_real_commands_and_simulated_timings() -> None:
    for name in ("job-single", "job-fixed-completions", "job-parallel", "job-failing"):
        job = _manifests.parse(_manifests.manifest(name))[0]
        template = job["spec"]["template"]
        assert template["spec"]["restartPolicy"] in ("Never", "OnFailure")
        assert "course.kwok/run-for" in template["metadata"]["annotations"]
        assert template["spec"]["containers"][0]["command"][0] == "sh"
