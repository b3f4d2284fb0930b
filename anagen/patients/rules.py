"""Rules for patient records that need no database: phone numbers, search terms, staging scales.

Kept free of Django so they are tested in milliseconds and shared by the pages, the API, the
intake forms and the management commands.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

# Phone numbers are stored as "+" and digits (E.164 shape). Numbers written the national way
# ("07700 900123") get this country code: the clinics are in the United Kingdom.
DEFAULT_COUNTRY_CODE = "44"
_PHONE_ALLOWED = re.compile(r"^[\d\s().+\-/]+$")


class PhoneError(ValueError):
    pass


def normalize_phone(raw: str, *, country_code: str = DEFAULT_COUNTRY_CODE) -> str:
    """``"+44 7700 900 123"`` and ``"07700 900123"`` both become ``"+447700900123"``.

    Spaces, dashes, dots, slashes and brackets are ignored; ``00`` is read as ``+``; a single
    leading ``0`` is the national trunk prefix. An empty string stays empty. Raises
    :class:`PhoneError` with a message a person can act on.
    """
    text = (raw or "").strip()
    if not text:
        return ""
    if not _PHONE_ALLOWED.match(text):
        raise PhoneError(f"'{text}' is not a phone number: use digits, spaces and an optional leading +.")
    plus = text.startswith("+")
    digits = re.sub(r"\D", "", text)
    if plus:
        international = digits
    elif digits.startswith("00"):
        international = digits[2:]
    elif digits.startswith("0"):
        international = country_code + digits[1:]
    else:
        international = digits
    # UK numbers written as "+44 (0)7700 ..." carry a trunk zero that is not dialled.
    if international.startswith(country_code + "0"):
        international = country_code + international[len(country_code) + 1:]
    if not 8 <= len(international) <= 15:
        raise PhoneError(f"'{text}' has {len(digits)} digits; a phone number has 8 to 15 (e.g. +44 7700 900123).")
    return "+" + international


def fold(text: str) -> str:
    """Lower-case, accents removed, runs of spaces collapsed: "José  Álvarez" -> "jose alvarez"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.lower().split())


def search_text(*, first_name: str, last_name: str, email: str = "", patient_number: str = "", phone: str = "") -> str:
    """The folded text a patient is found by (names, e-mail, patient number, phone digits), one column."""
    digits = re.sub(r"\D", "", phone or "")
    return fold(" ".join(p for p in (first_name, last_name, email, patient_number, digits) if p))


_DIGITS_ONLY = re.compile(r"^[\d\s().+\-/]+$")


@dataclass(frozen=True)
class SearchTerms:
    """What a single search box holds, split by kind."""

    words: tuple[str, ...] = ()
    date_of_birth: date | None = None
    phone: str = ""  # normalized, when the box holds a whole phone number
    phone_digits: str = ""  # the digits typed, for a partial number
    email: str = ""

    @property
    def empty(self) -> bool:
        return not (self.words or self.date_of_birth or self.phone_digits or self.email)


def parse_date(text: str) -> date | None:
    """``YYYY-MM-DD`` or ``DD/MM/YYYY`` (also with dots or dashes), or None."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def parse_search(q: str) -> SearchTerms:
    """Read one search box: a date of birth, a phone number in any spacing, an e-mail, or names."""
    q = (q or "").strip()
    if not q:
        return SearchTerms()
    if "@" in q and " " not in q:
        return SearchTerms(email=q.lower())
    dob = parse_date(q)
    if dob:
        return SearchTerms(date_of_birth=dob)
    if _DIGITS_ONLY.match(q):
        digits = re.sub(r"\D", "", q)
        if len(digits) >= 4:
            try:
                phone = normalize_phone(q)
            except PhoneError:
                phone = ""
            return SearchTerms(phone=phone, phone_digits=digits.lstrip("0"))
    words: list[str] = []
    dob = None
    for token in q.split():
        d = parse_date(token)
        if d and dob is None:
            dob = d
        else:
            words.append(fold(token))
    return SearchTerms(words=tuple(w for w in words if w), date_of_birth=dob)


def date_of_birth_problem(dob: date | None, *, today: date) -> str | None:
    """Why a date of birth cannot be right, or None."""
    if dob is None:
        return None
    if dob > today:
        return f"The date of birth {dob:%d/%m/%Y} is in the future; check the year."
    if dob.year < today.year - 120:
        return f"The date of birth {dob:%d/%m/%Y} is more than 120 years ago; check the year."
    return None


def patient_number(n: int) -> str:
    """The clinic-issued number for the n-th patient: 123 -> "AN-000123"."""
    return f"AN-{n:06d}"


# Staging scales (Norwood-Hamilton for male pattern, Ludwig and Sinclair for female pattern).
STAGES: dict[str, tuple[str, ...]] = {
    "norwood": ("I", "II", "III", "III vertex", "IV", "V", "VI", "VII"),
    "ludwig": ("I", "II", "III"),
    "sinclair": ("1", "2", "3", "4", "5"),
}
SCALE_NAMES = {"norwood": "Norwood-Hamilton", "ludwig": "Ludwig", "sinclair": "Sinclair"}


def staging_problem(scale: str, stage: str) -> str | None:
    if scale not in STAGES:
        return f"Unknown scale '{scale}'; choose one of: {', '.join(STAGES)}."
    if stage not in STAGES[scale]:
        return f"'{stage}' is not a {SCALE_NAMES[scale]} stage; choose one of: {', '.join(STAGES[scale])}."
    return None


def date_range_problem(started: date | None, stopped: date | None) -> str | None:
    if started and stopped and stopped < started:
        return f"The stop date {stopped:%d/%m/%Y} is before the start date {started:%d/%m/%Y}."
    return None
