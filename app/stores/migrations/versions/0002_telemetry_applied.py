"""telemetry_applied: stream entries already rolled up

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "telemetry_applied",
        sa.Column("entry_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_telemetry_applied")),
    )
    op.create_index("ix_telemetry_applied_created_at", "telemetry_applied", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_telemetry_applied_created_at", table_name="telemetry_applied")
    op.drop_table("telemetry_applied")
