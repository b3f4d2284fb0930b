"""The blinded reader learns nothing of whose image it is: crawl every reading page, image, overlay
and API answer as the evaluators (reader, second reader, adjudicator) and look for the patient's
name and number, the visit dates, the original file name, the arms and the sides; the audit
entries of the coded images must not carry the link to the original either."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern

from anagen.studies import reading_services, urls as study_urls
from anagen.studies.models import CodedImage
from conftest import PASSWORD

from .reading_fixtures import (  # noqa: F401  (fixtures)
    VISIT_DATES,
    _eager_tasks,
    adjudicator,
    coded,
    evaluator2,
    reading_study,
)

pytestmark = pytest.mark.django_db


def _secrets(study, subjects) -> list[str]:
    out = []
    for s in subjects:
        p = s.patient
        out += [p.first_name, p.last_name, p.patient_number, p.email, s.code]
    for d in VISIT_DATES:
        out += [f"{d:%Y-%m-%d}", f"{d:%d %b %Y}", f"{d:%d/%m/%Y}", f"{d:%Y%m%d}", f"{d:%Y:%m:%d}", f"{d:%b. %d, %Y}",
                f"{d:%B %d, %Y}".replace(" 0", " ")]
    for arm in study.arms.all():
        out += [arm.name, f"Arm {arm.code}"]
    out += ["Baseline", "Week 4", "Week 12", "left side", "right side", "Randomized on"]
    return out


def _reading_urls(codes) -> list[str]:
    """Every reading page pattern, for every code."""
    urls = []
    for p in study_urls.urlpatterns:
        assert isinstance(p, URLPattern)
        route = str(p.pattern)
        if route.startswith("reading/"):
            for code in codes:
                urls.append("/studies/" + route.replace("<str:code>", code))
            if "<str:code>" not in route:
                urls.append("/studies/" + route)
    for code in codes:
        urls += [f"/studies/reading/{code}/overlay.png?which=mine", f"/studies/reading/{code}/overlay.png?which=1",
                 f"/studies/reading/{code}/overlay.png?which=2"]
    return sorted(set(urls))


def _api_urls(codes) -> list[str]:
    from anagen.api.urls import api

    urls = []
    for path, methods in api.get_openapi_schema()["paths"].items():
        if path.startswith("/api/v1/studies/reading") and "get" in methods:
            urls += [path.replace("{code}", c) for c in codes] if "{code}" in path else [path]
    return sorted(set(urls))


def _readings_in_every_state(coded, evaluator, evaluator2, adjudicator):
    """Drafts, signed readings, an open adjudication and a signed one."""
    wide = sorted(coded, key=lambda c: -c.automatic["hair_count"])
    for c in wide[:3]:
        ids = [h["id"] for h in c.automatic["hairs"]][:5]
        reading_services.reading_save(actor=evaluator, coded=c, added=[(3, 3, 30, 40)])
        reading_services.reading_sign(actor=evaluator, coded=c, password=PASSWORD)
        reading_services.reading_save(actor=evaluator2, coded=c, removed=ids)
        reading_services.reading_sign(actor=evaluator2, coded=c, password=PASSWORD)
    reading_services.adjudication_sign(actor=adjudicator, coded=wide[0], hair_count=7, password=PASSWORD,
                                       note="Counted again.")
    reading_services.reading_save(actor=evaluator, coded=wide[3], removed=[wide[3].automatic["hairs"][0]["id"]])


def leaks(client, api_client, users, coded, secrets) -> tuple[list[str], int]:
    """``(problems, pages answered 200)`` of a crawl of every reading page and API route as ``users``."""
    codes = [c.code for c in coded]
    problems, seen = [], 0
    for user in users:
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        api = api_client(user)
        responses = [(url, client.get(url, follow=True)) for url in _reading_urls(codes)]
        responses += [(url, api.get(url)) for url in _api_urls(codes)]
        for url, r in responses:
            assert r.status_code in (200, 403, 404, 405), (url, r.status_code)
            headers = " ".join(f"{k}: {v}" for k, v in r.headers.items())
            png = r["Content-Type"] == "image/png"
            # A PNG's text lies only in its chunks (checked below); its pixel bytes are not text.
            text = headers + ("" if png else " " + r.content.decode())
            for secret in secrets:
                if secret.lower() in text.lower():
                    problems.append(f"{user.email} {url}: {secret}")
            if png:
                if not re.fullmatch(r'inline; filename="[A-Z0-9]{4}-[A-Z0-9]{4}(-\w+)?\.png"',
                                    r["Content-Disposition"]):
                    problems.append(f"{url}: file name {r['Content-Disposition']}")
                for chunk in (b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"tIME", b"iCCP"):
                    if chunk in r.content:
                        problems.append(f"{url}: PNG chunk {chunk!r}")
            if r.status_code == 200:
                seen += 1
    return problems, seen


def _all_secrets(study, subjects, coded) -> list[str]:
    names = [c.source.original_name for c in coded]
    assert all(names) and any(subjects[0].patient.last_name in n for n in names)
    return _secrets(study, subjects) + names


def test_no_reader_learns_whose_image_it_is(reading_study, coded, evaluator, evaluator2, adjudicator, client,
                                             api_client):
    from auditlog.models import LogEntry

    study, subjects = reading_study
    _readings_in_every_state(coded, evaluator, evaluator2, adjudicator)
    problems, seen = leaks(client, api_client, (evaluator, evaluator2, adjudicator), coded,
                           _all_secrets(study, subjects, coded))
    assert problems == []
    assert seen > 3 * len(coded)  # the crawl reached the pages, not only refusals
    # Audit: a coded image's entries carry its study and code, never the original image.
    for entry in LogEntry.objects.get_for_objects(CodedImage.objects.all()):
        assert set(entry.changes_dict) <= {"study", "code", "id"}, entry.changes_dict


def test_the_crawl_fails_when_a_reading_page_names_the_original(reading_study, coded, evaluator, client,
                                                                api_client, settings, tmp_path):
    # Negative control: a careless template that prints the original file name.
    study, subjects = reading_study
    folder = tmp_path / "studies" / "reading"
    folder.mkdir(parents=True)
    original = study_urls.__file__.rsplit("/", 1)[0] + "/templates/studies/reading/read.html"
    with open(original) as f:
        text = f.read()
    (folder / "read.html").write_text(text.replace("<h1>Image", "<h1>{{ coded.source.original_name }} Image"))
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path), *settings.TEMPLATES[0]["DIRS"]]}]
    problems, _ = leaks(client, api_client, (evaluator,), coded[:2], _all_secrets(study, subjects, coded))
    assert problems and all(f"/studies/reading/{c.code}/" in " ".join(problems) for c in coded[:2])
    assert any(subjects[0].patient.last_name in p or "2025" in p for p in problems)
