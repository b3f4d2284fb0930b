"""Rules for public inquiries that need no database: what a submission must hold, and names.

Kept free of Django so the public pages and the public API give the same answers, fast.
"""

from __future__ import annotations

import re

from anagen.patients.rules import PhoneError, normalize_phone

NAME_MAX = 160
CONCERN_MAX = 2000  # characters; longer messages are refused with this limit named
PREFERRED_TIMES_MAX = 500
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def clean_submission(*, kind: str, name: str, email: str, phone: str, concern: str, preferred_times: str,
                     consent_to_contact: bool, has_clinic: bool, prefers_video: bool) -> tuple[dict, dict[str, str]]:
    """Return (clean values, problems by field). Every problem says what to do."""
    problems: dict[str, str] = {}
    name = " ".join((name or "").split())
    email = (email or "").strip().lower()
    concern = (concern or "").strip()
    preferred_times = (preferred_times or "").strip()
    if kind not in ("question", "consultation"):
        problems["kind"] = "Choose whether this is a question or a consultation request."
    if not name:
        problems["name"] = "Tell us your name, so we know how to address you."
    elif len(name) > NAME_MAX:
        problems["name"] = f"Your name is {len(name)} characters long; the limit is {NAME_MAX}."
    if email and not _EMAIL.match(email):
        problems["email"] = f"'{email}' does not look like an e-mail address; check it (e.g. name@example.com)."
    try:
        phone = normalize_phone(phone or "")
    except PhoneError as exc:
        problems["phone"] = str(exc)
        phone = ""
    if not email and not phone and "email" not in problems and "phone" not in problems:
        problems["email"] = "Give an e-mail address or a phone number (or both), so we can reply."
    if not concern:
        problems["concern"] = ("Tell us your question." if kind == "question"
                               else "Tell us briefly about your hair loss and what you would like to discuss.")
    elif len(concern) > CONCERN_MAX:
        problems["concern"] = (f"Your message is {len(concern):,} characters long; the limit is {CONCERN_MAX:,}. "
                               "Shorten it, and tell us the rest at the consultation.")
    if len(preferred_times) > PREFERRED_TIMES_MAX:
        problems["preferred_times"] = f"Preferred times are limited to {PREFERRED_TIMES_MAX} characters."
    if kind == "consultation" and not has_clinic and not prefers_video:
        problems["preferred_clinic"] = "Choose a clinic for your consultation, or a video consultation."
    if not consent_to_contact:
        problems["consent_to_contact"] = "Tick the box to agree that we contact you about your request; we cannot reply otherwise."
    clean = {"name": name, "email": email, "phone": phone, "concern": concern, "preferred_times": preferred_times}
    return clean, problems


def split_name(full: str) -> tuple[str, str]:
    """A first name and the rest as last name: "Mary Anne Smith" -> ("Mary Anne", "Smith").

    People write names in many ways; we take the last word as the last name, unless a particle
    ("van", "de", ...) precedes it. The coordinator can correct both before converting.
    """
    parts = (full or "").split()
    if not parts:
        return "", ""
    if len(parts) == 1:
        return parts[0], ""
    particles = {"van", "von", "de", "der", "den", "da", "di", "du", "del", "la", "le", "bin", "al"}
    i = len(parts) - 1
    while i > 1 and parts[i - 1].lower() in particles:
        i -= 1
    return " ".join(parts[:i]), " ".join(parts[i:])
