"""courses: maintained counters for the catalogue (lessons, enrollments, ratings)

The catalogue and course pages show how many lessons, enrollments and ratings a course has and its
average rating; reading them from columns makes each page one SQL statement. Enrollments and ratings
are counted by triggers, so every writer (including ON DELETE CASCADE from users) keeps them exact;
they are backfilled here. Lessons live in the document store, which a migration cannot reach:
`lessons_count` stays NULL on existing courses until the app counts them once at start-up
(app/lessons/counters.py), and new courses start at 0.

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATEMENTS = (
    """
CREATE FUNCTION courses_count_enrollments() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE courses SET enrollment_count = enrollment_count + 1 WHERE id = NEW.course_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE courses SET enrollment_count = enrollment_count - 1 WHERE id = OLD.course_id;
    ELSIF NEW.course_id IS DISTINCT FROM OLD.course_id THEN
        UPDATE courses SET enrollment_count = enrollment_count - 1 WHERE id = OLD.course_id;
        UPDATE courses SET enrollment_count = enrollment_count + 1 WHERE id = NEW.course_id;
    END IF;
    RETURN NULL;
END $$""",
    """
CREATE FUNCTION courses_count_ratings() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE courses SET rating_count = rating_count - 1, rating_sum = rating_sum - OLD.stars
        WHERE id = OLD.course_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE courses SET rating_count = rating_count + 1, rating_sum = rating_sum + NEW.stars
        WHERE id = NEW.course_id;
    END IF;
    RETURN NULL;
END $$""",
    """CREATE TRIGGER enrollments_count AFTER INSERT OR DELETE OR UPDATE OF course_id ON enrollments
    FOR EACH ROW EXECUTE FUNCTION courses_count_enrollments()""",
    """CREATE TRIGGER ratings_count AFTER INSERT OR DELETE OR UPDATE OF course_id, stars ON ratings
    FOR EACH ROW EXECUTE FUNCTION courses_count_ratings()""",
)

_BACKFILL = """
UPDATE courses SET
    enrollment_count = (SELECT count(*) FROM enrollments e WHERE e.course_id = courses.id),
    rating_count = (SELECT count(*) FROM ratings r WHERE r.course_id = courses.id),
    rating_sum = (SELECT coalesce(sum(r.stars), 0) FROM ratings r WHERE r.course_id = courses.id)
"""


def upgrade() -> None:
    op.add_column("courses", sa.Column("lessons_count", sa.Integer(), nullable=True))
    op.alter_column("courses", "lessons_count", server_default="0")
    for name in ("enrollment_count", "rating_count", "rating_sum"):
        op.add_column("courses", sa.Column(name, sa.Integer(), server_default="0", nullable=False))
    # Taken before counting, so no enrollment or rating lands between the backfill and the triggers.
    op.execute("LOCK TABLE enrollments, ratings IN SHARE ROW EXCLUSIVE MODE")
    op.execute(_BACKFILL)
    for statement in _STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER ratings_count ON ratings")
    op.execute("DROP TRIGGER enrollments_count ON enrollments")
    op.execute("DROP FUNCTION courses_count_ratings()")
    op.execute("DROP FUNCTION courses_count_enrollments()")
    for name in ("rating_sum", "rating_count", "enrollment_count", "lessons_count"):
        op.drop_column("courses", name)
