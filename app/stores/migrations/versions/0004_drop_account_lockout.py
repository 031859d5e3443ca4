"""users: drop the per-account lockout columns

Failed sign-ins are throttled per (account, client) in Redis (app/stores/login_attempts.py) and an
account is never locked, so nothing reads or writes these columns.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LOCKOUT_COLUMNS = ("failed_login_count", "first_failed_login_at", "locked_until")


def upgrade() -> None:
    for column in _LOCKOUT_COLUMNS:
        op.drop_column("users", column)


def downgrade() -> None:
    op.add_column(
        "users",
        sa.Column("failed_login_count", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column("users", sa.Column("first_failed_login_at", sa.DateTime(timezone=True)))
    op.add_column("users", sa.Column("locked_until", sa.DateTime(timezone=True)))
