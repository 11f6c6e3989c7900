import os

import pytest
from faxbot.replica import ENV, PATTERN, ReplicaIdError, replica_id


def test_the_deployment_names_the_replica() -> None:
    assert replica_id({ENV: "faxbot-0"}) == "faxbot-0"


@pytest.mark.parametrize("bad", ["", "-a", "a b", "x" * 64, "a/b", "ä"])
def test_a_bad_name_is_refused_with_the_variable_named(bad: str) -> None:
    with pytest.raises(ReplicaIdError, match=ENV):
        replica_id({ENV: bad})


def test_without_a_name_host_and_pid_are_used() -> None:
    found = replica_id({})
    assert found.endswith(f"-{os.getpid()}")
    assert PATTERN.fullmatch(found)
