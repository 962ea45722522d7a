"""imported responses keep their source's respondent id; every community has a slug

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 15:40:00
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _slug(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:50] or "community"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def upgrade() -> None:
    # Plain ADD COLUMN and a unique index: no table copy (SQLite's batch mode would drop
    # and re-create responses, which the tables referring to it must not see).
    op.add_column("responses", sa.Column("source", sa.String(length=60), nullable=True))
    op.add_column("responses", sa.Column("source_id", sa.String(length=200), nullable=True))
    op.create_index(
        "uq_responses_source_id", "responses", ["wave_id", "source", "source_id"], unique=True
    )
    # Communities made before slugs were used on the command line may have an empty one.
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, slug, name FROM communities ORDER BY id")).all()
    taken = {slug for _, slug, _ in rows if (slug or "").strip()}
    for community_id, slug, name in rows:
        if not (slug or "").strip():
            new = _slug(name or "", taken)
            taken.add(new)
            connection.execute(
                sa.text("UPDATE communities SET slug = :slug WHERE id = :id"),
                {"slug": new, "id": community_id},
            )


def downgrade() -> None:
    op.drop_index("uq_responses_source_id", table_name="responses")
    with op.batch_alter_table("responses") as batch:
        batch.drop_column("source_id")
        batch.drop_column("source")
