"""deploy/k8s against the Kubernetes API schemas (kubernetes-validate ships them: offline), and
the properties the appliance relies on: probes, a locked-down securityContext, a grace period
above the drain, and every secret config.d.replicas references mounted as a file."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from ruamel.yaml import YAML

from tests.deploy.conftest import DEPLOY

K8S = DEPLOY / "k8s"
# The oldest release the manifests are for (preStop `sleep` is on by default from 1.30) and the
# newest whose schemas kubernetes-validate ships.
KUBERNETES = "1.30.0"
RELEASES = [KUBERNETES, kubernetes_validate.latest_version()]
SHUTDOWN_GRACE_SECONDS = 20  # the appliance's default shutdown_grace_seconds
SECRET_REFERENCE = re.compile(r"\$\{file:/run/secrets/([^}]+)\}")


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe", pure=True).load(path)
    return data


def manifests() -> list[Path]:
    return sorted(path for path in K8S.glob("*.yaml") if path.name != "kustomization.yaml")


def deployment() -> dict[str, Any]:
    return load(K8S / "deployment.yaml")


def referenced_secrets() -> set[str]:
    text = "".join(path.read_text() for path in (DEPLOY / "config.d.replicas").glob("*.yaml"))
    return set(SECRET_REFERENCE.findall(text))


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("path", manifests(), ids=lambda path: path.name)
def test_manifest_is_valid_against_the_kubernetes_schemas(path: Path, release: str) -> None:
    kubernetes_validate.validate(load(path), release, strict=True)


def test_a_broken_manifest_is_caught() -> None:
    broken = deployment()
    broken["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFs"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES, strict=True)


def test_kustomization_applies_every_manifest_but_the_secret_example() -> None:
    resources = load(K8S / "kustomization.yaml")["resources"]
    assert sorted(resources) == sorted(
        path.name for path in manifests() if path.name != "secret.example.yaml"
    )


def test_deployment_probes_and_security() -> None:
    pod = deployment()["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert container["startupProbe"]["httpGet"]["path"] == "/health/live"
    assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert {"requests", "limits"} <= container["resources"].keys()
    pause = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pod["terminationGracePeriodSeconds"] > pause + SHUTDOWN_GRACE_SECONDS


def test_writable_places_are_volumes_and_secrets_are_files() -> None:
    pod = deployment()["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    mounts = {mount["mountPath"]: mount for mount in container["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]
    assert "emptyDir" in volumes[mounts["/var/lib/faxbot"]["name"]]  # the image's data volume
    secrets = mounts["/run/secrets"]
    assert secrets["readOnly"] is True
    secret_name = volumes[secrets["name"]]["secret"]["secretName"]
    example = load(K8S / "secret.example.yaml")
    assert example["metadata"]["name"] == secret_name
    # Every ${file:/run/secrets/NAME} of the replicas' config.d is a key of that Secret.
    assert referenced_secrets()
    assert referenced_secrets() <= set(example["stringData"])
    assert not any("value" in env and "SECRET" in env["name"] for env in container["env"])


def test_pdb_and_service_select_the_deployments_pods() -> None:
    labels = deployment()["spec"]["template"]["metadata"]["labels"]
    pdb = load(K8S / "pdb.yaml")["spec"]
    service = load(K8S / "service.yaml")["spec"]
    assert pdb["selector"]["matchLabels"].items() <= labels.items()
    assert service["selector"].items() <= labels.items()
    assert pdb["minAvailable"] < deployment()["spec"]["replicas"]
