from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from course_helpers.errors import ManifestError
from course_helpers.kube import _manifests

ROOT = Path(__file__).resolve().parents[2]


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
    for name in (
        "job-single",
        "job-fixed-completions",
        "job-parallel",
        "job-failing",
        "job-work-queue",
        "job-deadline",
        "job-ttl",
        "job-suspended",
    ):
        job = _manifests.parse(_manifests.manifest(name))[0]
        template = job["spec"]["template"]
        assert template["spec"]["restartPolicy"] in ("Never", "OnFailure")
        assert "course.kwok/run-for" in template["metadata"]["annotations"]
        assert template["spec"]["containers"][0]["command"][0] == "sh"


def _pod_specs(doc: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Return (pod template metadata, pod spec) of a workload, CronJobs included."""
    spec = doc.get("spec") or {}
    if doc["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    template = spec.get("template")
    return [(template.get("metadata") or {}, template["spec"])] if template else []


def _shipped_pod_specs() -> list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]]:
    found = []
    for name in _manifests.available():
        for doc in _manifests.parse(_manifests.manifest(name), name):
            for meta, pod in _pod_specs(doc):
                found.append((name, doc, meta, pod))
    return found


def _notebook_yaml_docs() -> list[dict[str, Any]]:
    """The YAML documents the lab notebook hands the learner to start from."""
    notebook = json.loads((ROOT / "notebooks" / "05-lab-other-workloads.ipynb").read_text())
    docs = []
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and source.startswith("%%kubectl apply"):
            docs += _manifests.parse(source.split("\n", 1)[1])
    return docs


def test_every_container_runs_on_a_real_cluster_too() -> None:
    """kind or minikube pull the image and run the command: pinned tags, real volumes."""
    for name, doc, _meta, pod in _shipped_pod_specs():
        claims = {t["metadata"]["name"] for t in doc["spec"].get("volumeClaimTemplates", [])}
        volumes = {v["name"] for v in pod.get("volumes", [])} | claims
        for container in pod["containers"]:
            image = container["image"]
            assert ":" in image and not image.endswith(":latest"), f"{name}: pin {image}"
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in volumes, f"{name}: no volume {mount['name']}"


def test_long_running_busybox_containers_do_not_exit() -> None:
    """A DaemonSet's, Deployment's or StatefulSet's pod that exits is restarted for ever."""
    for name, doc, _meta, pod in _shipped_pod_specs():
        if (
            doc["kind"] in ("Job", "CronJob")
            or doc["spec"]["template"]["spec"].get("restartPolicy", "Always") != "Always"
        ):
            continue
        for container in pod["containers"]:
            if container["image"].startswith("busybox"):
                assert container["command"][-1].rstrip().endswith("sleep infinity"), name


def test_simulated_timings_match_what_the_command_does() -> None:
    """course.kwok annotations make the simulation do what the real command would."""
    for name, _doc, meta, pod in _shipped_pod_specs():
        annotations = meta.get("annotations") or {}
        script = " ".join(pod["containers"][0].get("command", []))
        if "course.kwok/run-for" in annotations:
            seconds = annotations["course.kwok/run-for"].removesuffix("s")
            assert f"sleep {seconds}" in script, f"{name}: runs {seconds}s, says {script!r}"
        if annotations.get("course.kwok/exit-code", "0") != "0":
            assert f"exit {annotations['course.kwok/exit-code']}" in script, name
        for key, value in annotations.items():
            # One index's own behaviour: the command tests $JOB_COMPLETION_INDEX for it.
            what, _, index = key.removeprefix("course.kwok/").partition("-index-")
            if not index:
                continue
            assert f'"$JOB_COMPLETION_INDEX" = {index}' in script, f"{name}: {key}"
            if what == "exit-code":
                assert f"exit {value}" in script, f"{name}: {key}"
            elif what == "run-for":
                assert f"sleep {value.removesuffix('s')}" in script, f"{name}: {key}"
            else:
                assert what == "fail-times", f"{name}: {key} is not read by the simulation"


def test_postgres_gets_a_password_and_a_data_directory_below_the_mount() -> None:
    """postgres exits without POSTGRES_PASSWORD; initdb refuses a disk root (lost+found)."""
    docs = [d for n in _manifests.available() for d in _manifests.parse(_manifests.manifest(n))]
    seen = 0
    for doc in docs + _notebook_yaml_docs():
        for _meta, pod in _pod_specs(doc):
            for container in pod["containers"]:
                if not container["image"].startswith("postgres"):
                    continue
                seen += 1
                env = {e["name"]: e.get("value") for e in container.get("env", [])}
                assert "POSTGRES_PASSWORD" in env, doc["metadata"]["name"]
                mounts = [m["mountPath"].rstrip("/") for m in container.get("volumeMounts", [])]
                for mount in mounts:
                    assert env.get("PGDATA", "").startswith(mount + "/"), (mount, env)
    assert seen >= 2, "the lab's solution and its starting YAML both run postgres"


def test_work_queue_job_sets_parallelism_and_leaves_completions_unset() -> None:
    # The Job documentation's third kind: with completions unset the Job is complete
    # once one pod has succeeded and all have stopped (pkg/controller/job, syncJob).
    job = _manifests.parse(_manifests.manifest("job-work-queue"))[0]
    assert job["spec"]["parallelism"] > 1
    assert "completions" not in job["spec"]
    template = job["spec"]["template"]
    run_for = template["metadata"]["annotations"]["course.kwok/run-for"]
    assert f"sleep {run_for.removesuffix('s')}" in template["spec"]["containers"][0]["command"][-1]
