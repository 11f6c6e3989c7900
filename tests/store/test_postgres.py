"""The store is portable to PostgreSQL: the same schema, migrations, statements and
compare-and-set rules, on a real server (tests/postgres_server.py). With a server database the
writer runs each batch, statements and COMMIT, in its thread."""

from __future__ import annotations

import asyncio

import pytest
from faxbot.store.cursors import BadCursor
from faxbot.store.database import HEAD, Database, current_revision, migrate, upgrade
from faxbot.store.jobs import JobStore, Phase
from faxbot.store.tables import metadata
from faxbot.store.writer import Writer
from sqlalchemy import Engine, create_engine, inspect, text


def _create(store: JobStore, job_id: str, key: str | None = None, at: float = 0.0):  # type: ignore[no-untyped-def]
    return store.create(
        job_id=job_id,
        to="+12025550143",
        pages=1,
        backend="test",
        document_key=f"{job_id}.pdf",
        api_key_id="k1",
        idempotency_key=key,
        request_hash="h",
    )


def _columns(engine: Engine) -> list[tuple[str, str, bool]]:
    return sorted(
        (c["name"], str(c["type"]), c["nullable"]) for c in inspect(engine).get_columns("jobs")
    )


def test_a_new_database_is_created_stamped_and_equals_the_migrated_schema(
    postgres_database: Database, postgres_url: str
) -> None:
    migrate(postgres_database)
    migrate(postgres_database)  # idempotent
    assert current_revision(postgres_database) == HEAD
    engine = create_engine(postgres_url)
    try:
        fresh_columns = _columns(engine)
        fresh_indexes = sorted(str(i["name"]) for i in inspect(engine).get_indexes("jobs"))
        with engine.begin() as connection:  # the same database, built by Alembic instead
            for table in reversed(metadata.sorted_tables):  # every table tables.py has
                connection.execute(text(f"DROP TABLE {table.name}"))
            connection.execute(text("DROP TABLE alembic_version"))
        upgrade(postgres_url)
        assert current_revision(postgres_database) == HEAD
        assert _columns(engine) == fresh_columns
        assert sorted(str(i["name"]) for i in inspect(engine).get_indexes("jobs")) == (
            fresh_indexes
        )
    finally:
        engine.dispose()


def test_jobs_are_created_once_per_idempotency_key_and_paged(
    postgres_database: Database,
) -> None:
    migrate(postgres_database)
    writer = Writer(postgres_database)
    writer.open()
    store = JobStore(postgres_database, writer)

    async def scenario() -> None:
        first, created = await _create(store, "a" * 32, key="retry-me")
        again, created_again = await _create(store, "b" * 32, key="retry-me")
        assert (created, created_again) == (True, False)
        assert again.id == first.id  # the same job, not a second one
        for n in range(5):
            await _create(store, f"{n:032d}")
        jobs, cursor = store.page(4)
        assert len(jobs) == 4 and cursor is not None
        rest, end = store.page(4, cursor)
        assert end is None
        assert len({j.id for j in jobs + rest}) == 6
        with pytest.raises(BadCursor):
            store.page(4, "not-a-cursor")
        await writer.close()

    asyncio.run(scenario())


def test_two_appliances_never_both_take_a_job(
    postgres_database: Database, postgres_url: str
) -> None:
    """Each appliance has its own connections and writer; the phase compare-and-set decides."""
    migrate(postgres_database)
    other = Database(postgres_url)
    ours, theirs = Writer(postgres_database), Writer(other)
    ours.open()
    theirs.open()
    store_a, store_b = JobStore(postgres_database, ours), JobStore(other, theirs)

    async def scenario() -> None:
        jobs = [(await _create(store_a, f"{n:032d}"))[0] for n in range(20)]
        taken = await asyncio.gather(
            *(store.start_hand_over(job, 1e12) for job in jobs for store in (store_a, store_b))
        )
        assert sum(t is not None for t in taken) == 20  # exactly one winner per job
        for job in jobs:
            found = store_a.get(job.id)
            assert found is not None and found.phase is Phase.HANDING_OVER
            assert found.attempts == 1
        assert store_b.due(1e13, 100) != [] and store_b.count_unfinished() == 20
        await ours.close()
        await theirs.close()

    try:
        asyncio.run(scenario())
    finally:
        other.close()


def test_a_failing_batch_commits_nothing_on_postgres(postgres_database: Database) -> None:
    migrate(postgres_database)
    writer = Writer(postgres_database)
    writer.open()
    store = JobStore(postgres_database, writer)

    def broken(connection: object) -> None:
        raise RuntimeError("boom")

    async def scenario() -> None:
        results = await asyncio.gather(
            _create(store, "c" * 32), writer.write(broken), return_exceptions=True
        )
        assert all(isinstance(r, RuntimeError) for r in results)
        assert store.get("c" * 32) is None
        job, created = await _create(store, "d" * 32)  # the writer goes on
        assert created and store.get(job.id) is not None
        await writer.close()

    asyncio.run(scenario())


def test_the_store_recovers_when_the_server_drops_its_connections(
    postgres_database: Database, postgres_url: str
) -> None:
    """What a PostgreSQL restart does to the appliance's connections (here: every backend of
    the database terminated). The write and the read that meet a dropped connection may fail;
    the ones after them work, on new connections, and nothing committed is lost."""
    import psycopg

    migrate(postgres_database)
    writer = Writer(postgres_database)
    writer.open()
    store = JobStore(postgres_database, writer)

    def drop_every_connection() -> None:
        admin = "postgresql://" + postgres_url.split("://", 1)[1]
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )

    async def scenario() -> None:
        await _create(store, "e" * 32)
        assert store.get("e" * 32) is not None  # a reader connection is now pooled
        drop_every_connection()
        failures = 0
        for attempt in range(3):  # a write: the first may meet the dropped connection
            try:
                _, created = await _create(store, f"{attempt:032d}")
                assert created
                break
            except psycopg.OperationalError:
                failures += 1
        else:
            pytest.fail("the writer never got a new connection")
        for _ in range(3):  # a read, likewise
            try:
                found = store.get("e" * 32)
                break
            except psycopg.OperationalError:
                failures += 1
        else:
            pytest.fail("the readers never got a new connection")
        assert found is not None and found.id == "e" * 32  # committed before: still there
        assert failures <= 2
        assert store.count_unfinished() == 2
        await writer.close()

    asyncio.run(scenario())
