"""A deleted course takes its documents with it (lessons, progress, telemetry), as its SQL rows go by
ON DELETE CASCADE; other courses' documents stay."""

from __future__ import annotations

from app.courses import store
from app.runtime import Runtime
from app.stores.mongo import COURSE_SCOPED


async def test_the_course_documents_go_and_the_others_stay(runtime: Runtime) -> None:
    for collection in COURSE_SCOPED:
        for course_id in (901, 902):
            await runtime.documents.insert(
                collection, {"_id": f"{collection}-{course_id}", "course_id": course_id}
            )

    await store.remove_documents(runtime.documents, 901)

    for collection in COURSE_SCOPED:
        assert await runtime.documents.count(collection, {"course_id": 901}) == 0, collection
        assert await runtime.documents.count(collection, {"course_id": 902}) == 1, collection
