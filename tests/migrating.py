"""Take the test database to a migration and back, for tests of data migrations.

Only in `transaction=True` tests; the database is left at the latest migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to(*targets: tuple[str, str]) -> Apps:
    """Apply or unapply migrations to reach `targets`; return the models as they are there."""
    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    return MigrationExecutor(connection).loader.project_state(list(targets)).apps


@contextmanager
def back_to_latest() -> Iterator[None]:
    """Migrate to the latest migrations when the block ends, however it ends."""
    try:
        yield
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
