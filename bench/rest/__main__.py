"""REST bench: the public read paths of ONE `learnflow serve` against a floor route of the same process.

    .venv/bin/python -m bench.rest [--seconds 8] [--connections 32] [--profile DIR] [--paths all]

Fixed data set, created through the store layer: 4 instructors, 20 published courses x 5 lessons, 2
drafts, 200 learners each enrolled in 5 courses, 3 of 5 enrollments rated, 12 comments on course 1.
wrk (`-t2 -c32 --latency`) measures each path in turn after a 1 s warm-up; the server's CPU time over
the measured window divided by the requests answered is *CPU us/req*. The floor
(`GET /api/bench/floor`, BENCH_FLOOR_ROUTE=true) answers the anonymous catalogue's bytes from memory
through the same middleware. A second server with PUBLIC_CACHE_SECONDS=0 gives the cold catalogue.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench._harness import (
    MONGO_DATABASE,
    TOKEN_TTL_SECONDS,
    Server,
    Stack,
    install_uvloop,
    machine,
    stack,
    start_hub,
    table,
)

CATEGORIES = ("Programming", "Design", "Business", "Data")
LEVELS = ("Beginner", "Intermediate", "Advanced")


@dataclass
class DataSet:
    learner_token: str
    course_id: int  # a published course the signed-in learner is enrolled in (with comments)
    search: str
    category: str


async def populate(made: Stack) -> DataSet:
    from app.courses import store as courses
    from app.enrollments import store as enrollments
    from app.ratings import store as ratings
    from app.security.tokens import TokenCodec
    from app.stores.models import Comment, User
    from app.stores.mongo import DocumentStore
    from app.stores.sql import Database
    from app.syllabus import store as lessons

    rng = random.Random(15)
    database = Database(made.urls.database_url)
    documents = DocumentStore(made.urls.mongo_url, MONGO_DATABASE)
    try:
        await documents.ensure_schema()
        async with database.transaction() as tx:
            teachers = [
                User(
                    email=f"teacher{i}@bench.example.com",
                    first_name="Teacher",
                    last_name=str(i),
                    role="instructor",
                    avatar_url=f"https://img.example.com/t{i}.png",
                )
                for i in range(4)
            ]
            learners = [
                User(
                    email=f"learner{i:03d}@bench.example.com",
                    first_name="Learner",
                    last_name=f"{i:03d}",
                    role="learner",
                )
                for i in range(200)
            ]
            tx.add_all(teachers + learners)
            await tx.flush()
            course_ids = []
            for c in range(22):
                topic = ("Python", "Rust", "Figma", "Sales", "SQL")[c % 5]
                course = await courses.add(
                    tx,
                    title=f"{topic} course {c}",
                    description=f"Everything about {topic}, part {c}. " * 8,
                    category=CATEGORIES[c % 4],
                    level=LEVELS[c % 3],
                    duration=f"{3 + c % 5} weeks",
                    thumbnail_url=f"https://img.example.com/c{c}.png",
                    instructor_id=teachers[c % 4].id,
                    is_published=c < 20,  # two drafts
                )
                course_ids.append(course.id)
                for n in range(5):
                    await lessons.insert(
                        documents,
                        {
                            "_id": lessons.new_lesson_id(),
                            "course_id": course.id,
                            "title": f"Lesson {n}",
                            "type": "text",
                            "duration": "10",
                            "duration_minutes": 10,
                            "content": "<p>" + "Lorem ipsum dolor sit amet. " * 40 + "</p>",
                            "notes": None,
                            "order": n,
                        },
                    )
                await courses.lessons_changed(tx, course.id, 5)
            published = course_ids[:20]
            for learner in learners:
                for course_id in rng.sample(published, 5):
                    await enrollments.add(tx, user_id=learner.id, course_id=course_id)
                    if rng.random() < 0.6:
                        await ratings.upsert(
                            tx,
                            user_id=learner.id,
                            course_id=course_id,
                            stars=rng.randint(1, 5),
                            review="Fine.",
                        )
            me = learners[0]
            mine = await enrollments.add(tx, user_id=me.id, course_id=published[0])
            del mine  # already enrolled by the sample or enrolled now: either way enrolled
            for n in range(12):
                tx.add(Comment(course_id=published[0], user_id=learners[n].id, content=f"Question {n}?"))
        codec = TokenCodec(made.jwt_secret, TOKEN_TTL_SECONDS)
        token = codec.issue_access(user_id=me.id, role="learner", session_id=uuid.uuid4().hex)
        return DataSet(learner_token=token, course_id=published[0], search="Python", category="Programming")
    finally:
        await documents.close()
        await database.close()


# -- wrk ------------------------------------------------------------------------------------------------

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _seconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        return float("nan")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass
class Result:
    name: str
    requests: int
    rps: float
    p50: float
    p99: float
    non_2xx: int
    cpu_us: float


def wrk(url: str, seconds: float, connections: int, headers: dict[str, str]) -> dict[str, Any]:
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "5s"]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    out = subprocess.run([*argv, url], capture_output=True, text=True, check=True).stdout
    found: dict[str, Any] = {"non_2xx": 0}
    for line in out.splitlines():
        words = line.split()
        if line.strip().startswith("50.000%") or (words[:1] == ["50%"]):
            found["p50"] = _seconds(words[1])
        elif words[:1] in (["99%"], ["99.000%"]):
            found["p99"] = _seconds(words[1])
        elif "requests in" in line:
            found["requests"] = int(words[0])
        elif line.startswith("Requests/sec:"):
            found["rps"] = float(words[1])
        elif "Non-2xx or 3xx responses:" in line:
            found["non_2xx"] = int(words[-1])
    return found


def profile(server: Server, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(server.pid),
            "--format",
            "raw",
            "--rate",
            "250",
            "--duration",
            str(int(seconds)),
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def top_frames(collapsed: Path, count: int = 10) -> list[tuple[str, float, float]]:
    """(frame, self share, inclusive share): the frames with most samples of their own, then our own
    code's frames (app/) with most samples under them, from a py-spy raw profile."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack_text, _, n_text = line.rpartition(" ")
        if not n_text.isdigit():
            continue
        n = int(n_text)
        frames = [
            re.sub(r":\d+\)$", ")", re.sub(r" \(/\S*?/(site-packages|python3\.\d+|i15)/", " (", f))
            for f in stack_text.split(";")
        ]
        total += n
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return []
    ours = [
        (f, n) for f, n in inclusive.most_common() if " (app/" in f and not re.search(r"app/(cli|http/)", f)
    ]
    picked = [f for f, _ in own.most_common(count)] + [f for f, _ in ours[: count // 2]]
    return [(frame, own[frame] / total, inclusive[frame] / total) for frame in dict.fromkeys(picked)]


def measure(
    name: str, server: Server, path: str, headers: dict[str, str], args: argparse.Namespace
) -> Result:
    url = server.http + path
    wrk(url, 1, args.connections, headers)  # warm-up: caches, pools, JIT-less Python's first calls
    spy = None
    if args.profile:
        out = Path(args.profile) / (re.sub(r"\W+", "_", name).strip("_") + ".txt")
        out.parent.mkdir(parents=True, exist_ok=True)
        spy = profile(server, out, args.seconds)
    cpu0 = server.cpu_seconds()
    got = wrk(url, args.seconds, args.connections, headers)
    cpu = server.cpu_seconds() - cpu0
    if spy is not None:
        spy.wait()
    requests = max(1, int(got.get("requests", 0)))
    result = Result(
        name,
        requests,
        got.get("rps", 0.0),
        got.get("p50", float("nan")),
        got.get("p99", float("nan")),
        got["non_2xx"],
        cpu / requests * 1e6,
    )
    print(
        f"  {name:34} {result.rps:8.0f} req/s  p50 {result.p50 * 1e3:6.1f} ms  p99 {result.p99 * 1e3:6.1f} ms"
        f"  {result.cpu_us:7.0f} us CPU/req  non-2xx {result.non_2xx}",
        flush=True,
    )
    return result


def main(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    print(machine(), flush=True)
    with stack() as made:
        data = asyncio.run(populate(made))
        common = {
            "RUN_WORKERS_IN_PROCESS": "false",
            "BENCH_FLOOR_ROUTE": "true",
            # 32 connections from one address would be refused by the per-client limit.
            "RATE_LIMIT_ENABLED": "false",
        }
        signed = {"Authorization": f"Bearer {data.learner_token}"}
        paths = [
            ("floor (same app, bytes in memory)", "/api/bench/floor", {}),
            ("GET /api/courses (anonymous)", "/api/courses", {}),
            ("GET /api/courses (signed in)", "/api/courses", signed),
            (
                "GET /api/courses?search&category",
                f"/api/courses?search={data.search}&category={data.category}",
                {},
            ),
            ("GET /api/courses/{id} (anonymous)", f"/api/courses/{data.course_id}", {}),
            ("GET /api/courses/{id} (signed in)", f"/api/courses/{data.course_id}", signed),
            ("GET /api/learner/enrollments", "/api/learner/enrollments", signed),
            ("GET /api/courses/{id}/discussions", f"/api/courses/{data.course_id}/discussions", signed),
        ]
        chosen = [p for p in paths if args.paths == "all" or any(k in p[0] for k in args.paths.split(","))]
        results = []
        server = start_hub(made, **common)
        try:
            for name, path, headers in chosen:
                results.append(measure(name, server, path, headers, args))
        finally:
            server.stop()
        if not args.no_cold:
            cold = start_hub(made, name="cold", **common, PUBLIC_CACHE_SECONDS="0")
            try:
                results.append(measure("GET /api/courses (anonymous, cold)", cold, "/api/courses", {}, args))
            finally:
                cold.stop()
        floor = next((r for r in results if r.name.startswith("floor")), None)
        rows = [
            [
                r.name,
                f"{r.rps:,.0f}",
                f"{r.p50 * 1e3:.1f}",
                f"{r.p99 * 1e3:.1f}",
                f"{r.cpu_us:,.0f}",
                f"{r.rps / floor.rps:.2f}" if floor and floor.rps else "-",
                r.non_2xx,
            ]
            for r in results
        ]
        print()
        print(f"wrk -t2 -c{args.connections} -d{args.seconds:g}s per path; {machine()}")
        print(
            table(["request", "req/s", "p50 ms", "p99 ms", "server CPU us/req", "x floor", "non-2xx"], rows)
        )
        if args.profile:
            for result in results:
                out = Path(args.profile) / (re.sub(r"\W+", "_", result.name).strip("_") + ".txt")
                if out.exists():
                    print(f"\ntop frames (self, inclusive) - {result.name}")
                    for frame, own, inclusive in top_frames(out):
                        print(f"  {own:6.1%} {inclusive:6.1%}  {frame}")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--profile", help="write a py-spy profile per path into this folder")
    parser.add_argument("--paths", default="all", help="comma-separated substrings of the path names")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-catalogue server")
    return parser.parse_args()


if __name__ == "__main__":
    install_uvloop()
    main(parse())
