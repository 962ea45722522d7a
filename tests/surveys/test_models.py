"""The models package: every table in one metadata, and the migrations match it."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Engine, Integer, MetaData, Table

import surveys.models
from surveys.models import Base


def _differences(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "render_as_batch": connection.dialect.name == "sqlite"},
        )
        return list(compare_metadata(context, metadata))


def test_the_migrations_build_exactly_the_models(engine: Engine) -> None:
    # What `alembic revision --autogenerate` would write: nothing, or a migration is missing.
    assert _differences(engine, Base.metadata) == []


def test_a_model_without_a_migration_is_noticed(engine: Engine) -> None:
    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(metadata)
    Table("unmigrated", metadata, Column("id", Integer, primary_key=True))
    added = [diff for diff in _differences(engine, metadata) if diff[0] == "add_table"]
    assert [diff[1].name for diff in added] == ["unmigrated"]


def test_importing_the_package_imports_every_models_module() -> None:
    # A table in a module nobody imports is invisible to Alembic and create_all.
    modules = sorted(
        f"surveys.models.{info.name}" for info in pkgutil.iter_modules(surveys.models.__path__)
    )
    code = "import sys, surveys.models; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert [name for name in modules if name not in loaded] == []


def test_every_public_model_name_is_exported_from_the_package() -> None:
    for name in surveys.models.__all__:
        assert hasattr(surveys.models, name)
    mapped = {mapper.class_.__name__ for mapper in Base.registry.mappers}
    assert mapped <= set(surveys.models.__all__)
