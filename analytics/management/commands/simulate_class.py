"""Simulate a class taking its course's pre-test and post-test through the quiz services.

    python manage.py simulate_class --course dropout-demo --learners 30 --seed 1
    python manage.py simulate_class --course demo --learners 30 --seed 1 --instructor teacher

Creates the course, its pre/post-test (copies of the catalogue's), the learners
`<course>-learner-<i>` (unusable passwords, enrolled as "simulated") and, for every
learner who has no submitted attempt at a quiz yet, one attempt answered with
`services.attempt_start`, `services.response_save` and `services.attempt_submit`. The
learners' model is described in `analytics/simulation.py`. Rerunning adds nothing for
learners already done. Progress goes to stderr; the last line of stdout is JSON:
{"course": SLUG, "pre_quiz": ID, "post_quiz": ID}.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_slug
from django.db import transaction
from django.utils import timezone

from analytics.simulated_class import (
    ItemCache,
    attempt_simulate,
    course_ensure,
    course_quizzes_ensure,
    learners_ensure,
    misconception_codes,
)
from analytics.simulation import (
    ClassModel,
    SimulationError,
    learner_draw,
    prevalences_draw,
    rng_for,
)
from assessments.models import Attempt, Quiz
from core.errors import ApplicationError
from courses.models import Enrollment

MAX_COURSE_SLUG = 80 - len("-posttest")  # the quiz slugs add a suffix to it
PROGRESS_EVERY = 10


class Command(BaseCommand):
    help = (
        "Simulate a class: create the course, its pre/post-test and N enrolled learners, and "
        "let each learner answer both tests through the quiz services (deterministic per seed)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--course", required=True, help="the course's slug")
        parser.add_argument("--learners", type=int, required=True, help="how many learners")
        parser.add_argument("--seed", type=int, required=True, help="a non-negative integer")
        parser.add_argument(
            "--instructor", help="username of an existing user to add as the course's instructor"
        )
        parser.add_argument("--title", default="", help="the course's title when it is created")
        parser.add_argument(
            "--enroll",
            default="",
            help="comma-separated usernames of existing users to enroll too (e.g. demo learners)",
        )

    def _progress(self, message: str) -> None:
        if self.verbosity > 0:
            self.stderr.write(message, style_func=lambda text: text)

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = int(options["verbosity"])
        slug, count, seed = options["course"], options["learners"], options["seed"]
        try:
            validate_slug(slug)
        except ValidationError as error:
            raise CommandError(
                f"--course {slug!r} is not a slug: use letters, digits, hyphens and underscores."
            ) from error
        if len(slug) > MAX_COURSE_SLUG:
            raise CommandError(f"--course must be at most {MAX_COURSE_SLUG} characters long.")
        if count < 1:
            raise CommandError(f"--learners must be at least 1, got {count}.")
        if seed < 0:
            raise CommandError(f"--seed must be a non-negative integer, got {seed}.")
        instructor: User | None = None
        if options["instructor"]:
            instructor = User.objects.filter(username=options["instructor"]).first()
            if instructor is None:
                raise CommandError(
                    f"No user named {options['instructor']!r}: --instructor must name an "
                    "existing user (create one with `python manage.py createsuperuser` or in "
                    "the admin)."
                )
        names = [name.strip() for name in options["enroll"].split(",") if name.strip()]
        extra = list(User.objects.filter(username__in=names))
        unknown = sorted(set(names) - {user.username for user in extra})
        if unknown:
            raise CommandError(f"--enroll names no user called {', '.join(map(repr, unknown))}.")
        codes = misconception_codes()
        if not codes:
            raise CommandError(
                "The misconception catalogue is empty: run `python manage.py load_catalog` first."
            )
        try:
            with transaction.atomic():
                course = course_ensure(slug, options["title"])
                pre, post = course_quizzes_ensure(course)
                if instructor is not None:
                    course.instructors.add(instructor)
                learners = learners_ensure(course, count)
                for user in extra:
                    Enrollment.objects.get_or_create(
                        course=course, learner=user, defaults={"source": Enrollment.Source.MANUAL}
                    )
        except SimulationError as error:
            raise CommandError(str(error)) from error
        self._progress(f"Course {course.slug}: {count} learners enrolled; simulating attempts.")
        made = self._simulate(learners, pre, post, seed)
        self.stdout.write(
            f"Course {course.slug} ({course.title}): {count} simulated learners, "
            f"{made[pre.id]} new pre-test and {made[post.id]} new post-test attempts."
        )
        self.stdout.write(
            json.dumps({"course": course.slug, "pre_quiz": pre.id, "post_quiz": post.id})
        )

    def _simulate(self, learners: list[User], pre: Quiz, post: Quiz, seed: int) -> dict[int, int]:
        model = ClassModel()
        prevalences = prevalences_draw(seed, misconception_codes(), model)
        cache = ItemCache(seed=seed, model=model)
        done = {
            quiz.id: set(
                Attempt.objects.filter(quiz=quiz, state=Attempt.State.SUBMITTED).values_list(
                    "learner_id", flat=True
                )
            )
            for quiz in (pre, post)
        }
        made = {pre.id: 0, post.id: 0}
        now = timezone.now()
        for index, learner in enumerate(learners, start=1):
            before, after = learner_draw(seed, index, prevalences, model)
            # Pre-test about a week ago, post-test two days ago, at a time of day of their own.
            offset = timedelta(seconds=float(rng_for(seed, "schedule", index).uniform(0, 86400)))
            plan = (
                (pre, before, now - timedelta(days=8) + offset, "pre"),
                (post, after, now - timedelta(days=2) + offset, "post"),
            )
            current = pre
            try:
                with transaction.atomic():
                    for quiz, state, started_at, label in plan:
                        if learner.id in done[quiz.id]:
                            continue
                        current = quiz
                        attempt_simulate(
                            quiz=quiz,
                            learner=learner,
                            state=state,
                            stream=("answers", index, label),
                            cache=cache,
                            started_at=started_at,
                        )
                        made[quiz.id] += 1
            except ApplicationError as error:
                raise CommandError(
                    f"Learner {learner.username} could not take {current.slug}: {error.message}"
                ) from error
            if index % PROGRESS_EVERY == 0 or index == len(learners):
                self._progress(f"  {index}/{len(learners)} learners done")
        return made
