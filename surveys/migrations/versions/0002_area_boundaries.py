"""area boundaries for neighbourhood maps

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 15:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "area_boundaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_area_boundaries_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_area_boundaries")),
    )
    with op.batch_alter_table("area_boundaries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_area_boundaries_site_id"), ["site_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("area_boundaries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_area_boundaries_site_id"))
    op.drop_table("area_boundaries")
