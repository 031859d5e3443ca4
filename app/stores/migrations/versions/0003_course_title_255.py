"""courses.title: up to 255 characters, as the original LearnFlow API accepted

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("courses", "title", type_=sa.String(length=255), existing_nullable=False)


def downgrade() -> None:
    # Titles longer than 200 characters are cut, so the narrower column can hold them again.
    op.execute("UPDATE courses SET title = left(title, 200) WHERE length(title) > 200")
    op.alter_column("courses", "title", type_=sa.String(length=200), existing_nullable=False)
