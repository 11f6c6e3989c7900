"""The write path's SQL, in each DB-API parameter style the appliance supports."""

from __future__ import annotations

import re

import pytest
from faxbot.store.jobs import _COLUMNS, _Statements


@pytest.mark.parametrize(("style", "marker"), [("qmark", ":{}"), ("pyformat", "%({})s")])
def test_every_column_is_a_bound_parameter(style: str, marker: str) -> None:
    sql = _Statements.for_paramstyle(style)
    for column in _COLUMNS:
        assert marker.format(column) in sql.insert
    assert sql.update.endswith(
        f"WHERE id = {marker.format('id')} AND phase = {marker.format('expected')}"
    )
    # nothing but our own names and markers: no value is ever spliced into the text
    assert not re.search(r"'[^']*'", sql.insert + sql.update)


def test_an_unknown_paramstyle_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported DB-API paramstyle 'format'"):
        _Statements.for_paramstyle("format")
