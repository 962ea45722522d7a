"""pack runs on the task queue: one row per pack, no process bookkeeping

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 15:40:00

Pack runs are carried out by the task queue (one task per pack), which itself keeps the
work through a restart: the run's process id, host, token and heartbeat go, the folder
the packs are written to is kept on the run, and each pack gets a row of its own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pack_run_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["pack_runs.id"],
            name=op.f("fk_pack_run_items_run_id_pack_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pack_run_items")),
        sa.UniqueConstraint("run_id", "site", name=op.f("uq_pack_run_items_run_id")),
    )
    # A run left queued or running by the old background process has nobody to finish it.
    op.execute(
        "UPDATE pack_runs SET status = 'failed', active_wave_id = NULL,"
        " error = 'stopped when placevoice moved pack runs to the task queue'"
        " WHERE status IN ('queued', 'running')"
    )
    with op.batch_alter_table("pack_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("out_dir", sa.Text(), nullable=False, server_default=""))
        batch_op.drop_column("token")
        batch_op.drop_column("pid")
        batch_op.drop_column("host")
        batch_op.drop_column("heartbeat_at")
    with op.batch_alter_table("pack_runs", schema=None) as batch_op:
        batch_op.alter_column("out_dir", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("pack_runs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("host", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("token", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.drop_column("out_dir")
    op.drop_table("pack_run_items")
