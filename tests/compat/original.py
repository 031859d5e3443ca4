"""The original LearnFlow API's response shapes, written down once, field by field.

These are what clients written for the original API (its web client, scripts, mobile wrappers) read:
every field it sent, with the JSON type it had. Our responses must carry each of them with that type;
they may carry more. Where the original sent a key only sometimes, it is `optional`; where it sent null,
`nullable`. Ids of users, courses, comments, messages and audit entries are integers; lesson and progress
record ids are strings.
"""

from __future__ import annotations

from tests.compat.shapes import (
    ANY,
    BOOL,
    INT,
    NUM,
    STR,
    TIMESTAMP,
    Shape,
    arr,
    dict_of,
    either,
    nullable,
    obj,
    one_of,
    optional,
)

# --- errors -------------------------------------------------------------------------------------------------

ERROR = obj(detail=STR)
VALIDATION_ERROR = obj(
    detail=arr(
        obj(
            type=STR,
            loc=arr(either(STR, INT)),
            msg=STR,
            input=nullable(ANY),
            ctx=optional(ANY),
            url=optional(STR),
        )
    )
)
RATE_LIMITED = obj(detail=STR, retry_after=STR)

# --- auth and users -----------------------------------------------------------------------------------------

TOKEN = obj(access_token=STR, token_type=one_of("bearer"))
USER = obj(
    email=STR,
    first_name=STR,
    last_name=STR,
    id=INT,
    role=STR,
    is_active=BOOL,
    avatar_url=nullable(STR),
    created_at=TIMESTAMP,
)
GOOGLE_URL = obj(url=STR)
ROLE_CHANGED = obj(message=STR, user=obj(id=INT, email=STR, role=STR))
BLOCKED = obj(message=STR, is_blocked=BOOL)
MODULE = obj(lesson_id=STR, title=STR, completed=BOOL, seconds_spent=INT)
STUDENT_STATS = obj(
    student=obj(id=INT, name=STR, email=STR, avatar=nullable(STR)),
    total_hours_spent=NUM,
    courses=arr(
        obj(
            course_id=INT,
            course_title=STR,
            progress_percentage=NUM,
            total_seconds_spent=INT,
            modules=arr(MODULE),
        )
    ),
)

# --- courses and lessons ------------------------------------------------------------------------------------

CATEGORIES = arr(STR)
COURSE_ITEM = obj(
    id=INT,
    title=STR,
    category=STR,
    level=STR,
    duration=STR,
    thumbnail_url=nullable(STR),
    instructor_id=INT,
    is_enrolled=BOOL,
)
LESSON = obj(
    id=STR,
    course_id=INT,
    title=nullable(STR),
    type=one_of("video", "text"),
    duration=nullable(STR),
    content=nullable(STR),
    notes=nullable(STR),
    order=INT,
    created_at=TIMESTAMP,
    updated_at=TIMESTAMP,
)
COURSE_DETAIL_FIELDS: dict[str, Shape] = {
    "title": STR,
    "description": STR,
    "category": STR,
    "level": STR,
    "duration": STR,
    "id": INT,
    "thumbnail_url": nullable(STR),
    "banner_url": nullable(STR),
    "instructor_id": INT,
    "is_published": BOOL,
    "is_leaderboard_public": BOOL,
    "created_at": TIMESTAMP,
    "updated_at": nullable(TIMESTAMP),
    "instructor": STR,
    "instructorAvatar": nullable(STR),
    "rating": NUM,
    "enrolledStudents": INT,
    "lessonsCount": INT,
    "lessons": arr(LESSON),
    "is_enrolled": BOOL,
}
COURSE_DETAIL = obj(**COURSE_DETAIL_FIELDS)
# What POST /api/courses answers: the same object, for a course without lessons yet.
NEW_COURSE = obj(**{**COURSE_DETAIL_FIELDS, "lessons": arr(LESSON, may_be_empty=True)})
COURSE_WITH_ENROLLMENTS = obj(
    id=INT,
    title=STR,
    category=STR,
    level=STR,
    is_published=BOOL,
    created_at=nullable(TIMESTAMP),
    enrollments=INT,
    thumbnail_url=nullable(STR),
    duration=STR,
)
MESSAGE = obj(message=STR)
LESSON_CREATED = obj(message=STR, lesson_id=STR)

# --- enrollment, progress, learner dashboard ----------------------------------------------------------------

PROGRESS = obj(
    user_id=INT,
    course_id=INT,
    completed_lessons=arr(STR, may_be_empty=True),
    total_lessons=INT,
    progress_percentage=NUM,
    last_accessed=nullable(TIMESTAMP),
    total_seconds_spent=INT,
)
PROGRESS_RECORD = obj(
    user_id=INT,
    course_id=INT,
    completed_lessons=arr(STR, may_be_empty=True),
    lesson_times=dict_of(INT),
    total_seconds_spent=INT,
    last_accessed=nullable(TIMESTAMP),
    id=STR,
)
PROGRESS_WITH_RECORD = obj(
    user_id=INT,
    course_id=INT,
    completed_lessons=arr(STR),
    lesson_times=dict_of(INT),
    total_seconds_spent=INT,
    last_accessed=TIMESTAMP,
    id=STR,
    total_lessons=INT,
    progress_percentage=NUM,
)
LEARNER_STATS = obj(courses_in_progress=INT, courses_completed=INT, lessons_completed=INT, total_enrolled=INT)
LEARNER_ENROLLMENT = obj(
    id=INT,
    title=STR,
    description=STR,
    category=STR,
    level=STR,
    duration=STR,
    thumbnail_url=nullable(STR),
    enrolled_at=nullable(TIMESTAMP),
    completed_at=nullable(TIMESTAMP),
    total_lessons=INT,
    completed_lessons=INT,
    progress_percentage=INT,
    is_completed=BOOL,
)
TELEMETRY = obj(status=one_of("success"))
LEADERBOARD_ENTRY = obj(
    user_id=INT,
    name=STR,
    avatar=nullable(STR),
    completed_lessons=INT,
    total_lessons=INT,
    progress_percentage=NUM,
    total_seconds_spent=INT,
    rank=INT,
)

# --- discussions and private course messages ----------------------------------------------------------------

COMMENT = obj(
    id=INT,
    course_id=INT,
    user_id=INT,
    author_name=STR,
    author_avatar=nullable(STR),
    content=STR,
    is_private=BOOL,
    lesson_id=nullable(STR),
    parent_id=nullable(INT),
    created_at=TIMESTAMP,
    upvotes=INT,
    downvotes=nullable(INT),
    user_vote=one_of(1, -1, 0),
    course_title=nullable(STR),
    lesson_title=nullable(STR),
)
# In the inboxes the client lower-cases these, so they are never null there.
COURSE_MESSAGE = obj(
    id=INT,
    course_id=INT,
    user_id=INT,
    author_name=STR,
    author_avatar=nullable(STR),
    content=STR,
    is_private=BOOL,
    lesson_id=nullable(STR),
    parent_id=nullable(INT),
    created_at=TIMESTAMP,
    upvotes=INT,
    downvotes=nullable(INT),
    user_vote=one_of(1, -1, 0),
    course_title=STR,
    lesson_title=STR,
)

# --- direct messages ----------------------------------------------------------------------------------------

CHAT_PARTNER = obj(id=INT, name=STR, avatar=nullable(STR), role=STR)
CHAT = obj(
    partner_id=INT,
    partner_name=STR,
    partner_avatar=nullable(STR),
    partner_role=STR,
    last_message=STR,
    last_message_at=TIMESTAMP,
    unread_count=INT,
)
DIRECT_MESSAGE = obj(
    id=INT,
    sender_id=INT,
    receiver_id=INT,
    sender_name=STR,
    sender_avatar=nullable(STR),
    content=STR,
    is_read=BOOL,
    created_at=TIMESTAMP,
)

# --- analytics ----------------------------------------------------------------------------------------------

ANALYTICS_STATS = obj(
    total_users=INT, total_courses=INT, total_enrollments=INT, active_users=INT, published_courses=INT
)
CATEGORY_SHARE = obj(name=STR, count=INT, percentage=INT)
TREND_POINT = obj(date=STR, enrollments=INT, completions=INT)
GROWTH_POINT = obj(month=STR, new_users=INT, total_users=INT)
INSIGHTS = obj(
    avg_lesson_views=NUM,
    completion_rate=NUM,
    total_lessons_viewed=INT,
    total_enrollments=INT,
    completed_enrollments=INT,
)

# --- reports and audit log ----------------------------------------------------------------------------------

COURSE_REPORT = obj(
    total_courses=INT,
    courses=arr(
        obj(
            id=INT,
            title=STR,
            category=STR,
            level=STR,
            is_published=BOOL,
            created_at=nullable(TIMESTAMP),
            total_enrollments=INT,
            completed_enrollments=INT,
            completion_rate=NUM,
        )
    ),
)
STUDENT_REPORT = obj(
    total_students=INT,
    total_enrollments=INT,
    students=arr(
        obj(
            id=INT,
            student_id=INT,
            student_name=STR,
            student_email=STR,
            course_id=INT,
            course_title=STR,
            enrolled_at=nullable(TIMESTAMP),
            completed_at=nullable(TIMESTAMP),
            progress=INT,
            status=one_of("enrolled", "in_progress", "completed"),
        )
    ),
)
USER_REPORT = obj(
    total_users=INT,
    users=arr(
        obj(
            id=INT,
            email=STR,
            full_name=STR,
            role=STR,
            is_active=BOOL,
            created_at=nullable(TIMESTAMP),
            total_courses_enrolled=INT,
            courses_completed=INT,
        )
    ),
)
ACTIVITY_REPORT = obj(
    period=obj(**{"from": TIMESTAMP, "to": TIMESTAMP}),
    new_users=INT,
    new_enrollments=INT,
    course_completions=INT,
    new_courses=INT,
    recent_users=arr(obj(id=INT, email=STR, full_name=STR, role=STR, created_at=nullable(TIMESTAMP))),
    recent_enrollments=arr(obj(id=INT, user_id=INT, course_id=INT, enrolled_at=nullable(TIMESTAMP))),
)
AUDIT_ENTRY = obj(
    id=INT,
    user_id=nullable(INT),
    action=STR,
    resource_type=nullable(STR),
    resource_id=nullable(INT),
    details=nullable(STR),
    ip_address=nullable(STR),
    user_agent=nullable(STR),
    created_at=nullable(TIMESTAMP),
    user_email=optional(nullable(STR)),
    user_name=optional(nullable(STR)),
)

# --- media and health ---------------------------------------------------------------------------------------

UPLOAD = obj(url=STR, public_id=STR, format=STR, resource_type=one_of("image", "video"))
HEALTH = obj(status=STR, databases=obj(postgresql=STR, mongodb=STR))


def listing(item: Shape) -> Shape:
    """The original's lists are bare arrays."""
    return arr(item)
