"""The write path's SQL, in each DB-API parameter style the appliance supports."""

from __future__ import annotations

import re

import pytest
from faxbot.store.jobs import COLUMNS, PAGE_CONDITIONS, _Statements


@pytest.mark.parametrize(("style", "marker"), [("qmark", ":{}"), ("pyformat", "%({})s")])
def test_every_column_is_a_bound_parameter(style: str, marker: str) -> None:
    sql = _Statements(style)
    for column in COLUMNS:
        assert marker.format(column.name) in sql.insert
    update = sql.update(("phase", "updated_at"))
    assert update == (
        f"UPDATE jobs SET phase = {marker.format('phase')}, updated_at = "  # noqa: S608
        f"{marker.format('updated_at')} WHERE id = {marker.format('id')} "
        f"AND phase = {marker.format('expected')}"
    )
    pages = [sql.page(()), sql.page(("after",)), sql.page(tuple(PAGE_CONDITIONS))]
    reads = [sql.get, sql.by_idempotency_key, *pages, sql.due]
    # nothing but our own names and markers: no value is ever spliced into the text
    assert not re.search(r"'[^']*'", "".join([sql.insert, update, sql.count_unfinished, *reads]))
    names = ", ".join(c.name for c in COLUMNS)
    for read in reads:
        assert read.startswith(f"SELECT {names} FROM jobs")  # noqa: S608


def test_an_update_is_made_once_per_set_of_columns() -> None:
    sql = _Statements("qmark")
    assert sql.update(("status",)) is sql.update(("status",))
    assert sql.update(("status",)) != sql.update(("status", "error"))


@pytest.mark.parametrize("columns", [("nope",), ("status", "id"), ("status; DROP TABLE jobs",)])
def test_only_known_columns_other_than_the_id_can_be_updated(columns: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="cannot update the columns"):
        _Statements("qmark").update(columns)


def test_an_unknown_paramstyle_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported DB-API paramstyle 'format'"):
        _Statements("format")


@pytest.mark.parametrize(("style", "marker"), [("qmark", ":{}"), ("pyformat", "%({})s")])
def test_a_page_binds_every_filter_and_is_made_once_per_set_of_filters(
    style: str, marker: str
) -> None:
    sql = _Statements(style)
    every = sql.page(tuple(PAGE_CONDITIONS))
    for name in ("status", "to", "created_since", "created_until", "after_created_at", "limit"):
        assert marker.format(name) in every
    assert sql.page(("status", "after")) is sql.page(("status", "after"))
    assert "WHERE" not in sql.page(())
