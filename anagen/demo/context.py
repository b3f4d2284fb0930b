"""The state one demo load carries: clinics, staff, products, the diary and the simulated clock."""

from __future__ import annotations

import contextlib
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Callable

from django.utils import timezone

from anagen.demo.clock import LONDON, SimulatedClock
from anagen.demo.scheduling import Diary

@dataclass
class DemoContext:
    rng: random.Random
    today: date
    clock: SimulatedClock
    max_images: int
    log: Callable[[str], None] = print
    clinics: dict = field(default_factory=dict)
    rooms: dict = field(default_factory=dict)
    staff: dict = field(default_factory=dict)
    modalities: dict = field(default_factory=dict)
    products: dict = field(default_factory=dict)
    diary: Diary = field(default_factory=Diary)
    durations: dict = field(default_factory=dict)
    stats: Counter = field(default_factory=Counter)
    recall: tuple | None = None  # (lot pk, date recalled)
    phones: list = field(default_factory=list)
    emails: set = field(default_factory=set)
    showcase: object | None = None
    image_seconds: float = 0.0
    # Image seeds come from their own stream, so capping the images leaves the rest unchanged.
    image_rng: random.Random = field(default_factory=random.Random)

    @property
    def present(self) -> datetime:
        """Midnight at the start of today: everything replayed happens before it."""
        return timezone.make_aware(datetime.combine(self.today, time(0)), LONDON)

    @contextlib.contextmanager
    def act(self, actor, when: datetime):
        """Replay one action of ``actor`` (None for the public) at ``when``."""
        from auditlog.context import set_actor

        if when >= self.present:
            raise ValueError(f"demo: an action at {when} would be in the future")
        self.clock.at = when
        if actor is None:
            yield
        else:
            with set_actor(actor):
                yield

    def user(self, email: str):
        return next(u for users in self.staff.values() for u in users if u.email == email)

    @property
    def admin(self):
        return self.staff["admin"][0]

    @property
    def coordinator(self):
        return self.staff["coordinator"][0]

    @property
    def lab(self):
        return self.staff["lab_scientist"][0]

    def clinicians_of(self, clinic) -> list:
        return [u for u in self.staff["clinician"] if u.can_see_clinic(clinic.pk)]
