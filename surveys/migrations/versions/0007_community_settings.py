"""community pack settings; school phase and free-school-meal band

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 15:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("communities") as batch:
        batch.add_column(
            sa.Column("pack_min_responses", sa.Integer(), nullable=False, server_default="20")
        )
    with op.batch_alter_table("sites") as batch:
        batch.add_column(
            sa.Column("phase", sa.String(length=20), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("fsm_band", sa.String(length=20), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("sites") as batch:
        batch.drop_column("fsm_band")
        batch.drop_column("phase")
    with op.batch_alter_table("communities") as batch:
        batch.drop_column("pack_min_responses")
