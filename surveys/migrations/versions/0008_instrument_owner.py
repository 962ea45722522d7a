"""instruments belong to a community

Adds ``instrument_versions.community_id`` (None: a built-in, public instrument). Versions
already stored of an instrument other than the built-ins are given to the database's
community when it holds exactly one (the command line has always served one community
per database); otherwise they stay public, as before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 16:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

#: The instruments shipped with placevoice (public in every database).
BUILTIN_IDS = ("pupil_perception", "resident_baseline", "peer_interview")


def upgrade() -> None:
    with op.batch_alter_table("instrument_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("community_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_instrument_versions_community_id_communities"),
            "communities",
            ["community_id"],
            ["id"],
        )
    versions = sa.table(
        "instrument_versions",
        sa.column("instrument_id", sa.String),
        sa.column("community_id", sa.Integer),
    )
    communities = sa.table("communities", sa.column("id", sa.Integer))
    connection = op.get_bind()
    ids = list(connection.execute(sa.select(communities.c.id).limit(2)).scalars())
    if len(ids) == 1:
        connection.execute(
            versions.update()
            .where(versions.c.instrument_id.not_in(BUILTIN_IDS))
            .values(community_id=ids[0])
        )


def downgrade() -> None:
    with op.batch_alter_table("instrument_versions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_instrument_versions_community_id_communities"), type_="foreignkey"
        )
        batch_op.drop_column("community_id")
