"""Blinded reading in Chromium: the evaluator logs in and lands on the reading queue (codes only),
opens a coded image, removes a false hair, adds a missed one with two clicks on the engine's
overlay, saves, and signs with the password. Screenshots land in test-artifacts/browser/."""

from __future__ import annotations

import pytest

from tests.browser.waiting import until

from conftest import PASSWORD

from .reading_fixtures import (  # noqa: F401  (fixtures)
    _eager_tasks,
    adjudicator,
    coded,
    evaluator2,
    reading_study,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _free_segment(c):
    """A short vertical line on the image that crosses no hair the engine found, or None.

    The fixture's images hold 6 to 11 hairs on 2.4 x 3.2 mm; the most crowded has no such place."""
    from anagen.trichoscopy import ImageAnalysis
    from anagen.trichoscopy.corrections import lines_overlap

    auto = ImageAnalysis.from_dict(c.automatic)
    for x in range(30, c.width - 30, 12):
        for y in range(30, c.height - 90, 20):
            seg = ((x, y), (x + 4, y + 50))
            if not any(lines_overlap(seg, h.centreline, tolerance_px=25, share=0.01) for h in auto.hairs):
                return (x, y, x + 4, y + 50)
    return None


def test_the_evaluator_reads_a_coded_image_and_signs(page, browser_login, coded, evaluator):
    from anagen.studies.models import CodedImage, Reading

    # The first image in the reader's order with room for a drawn hair (codes are random, so the
    # order differs from run to run).
    in_order = sorted(CodedImage.objects.filter(pk__in=[c.pk for c in coded]), key=lambda c: c.order_key)
    first = next(c for c in in_order if _free_segment(c))
    browser_login(evaluator)
    assert page.url.rstrip("/").endswith("/studies/reading")
    assert page.locator("h1").inner_text() == "Blinded reading"
    rows = page.locator("#reading-queue tbody tr")
    assert rows.count() == 6
    page.shot("queue")
    page.click(f"text={first.code}")
    page.wait_for_load_state()
    assert first.code in page.locator("h1").inner_text()
    until(page, "document.getElementById('overlay').complete && "
                           "document.getElementById('overlay').naturalWidth > 0")
    page.shot("coded-image")
    c = CodedImage.objects.get(pk=first.pk)
    hair = c.automatic["hairs"][0]["id"]
    x0, y0, x1, y1 = _free_segment(c)
    page.locator("#overlay").scroll_into_view_if_needed()
    box = page.locator("#overlay").bounding_box()
    scale = box["width"] / c.width
    page.mouse.click(box["x"] + x0 * scale, box["y"] + y0 * scale)
    page.mouse.click(box["x"] + x1 * scale, box["y"] + y1 * scale)
    added = page.input_value("#id_added")
    assert len(added.strip().split(",")) == 4, added
    page.check(f"input[name=removed][value='{hair}']")
    page.shot("corrected-before-save")
    page.click("button:text('Save the reading')")
    page.wait_for_load_state()
    reading = Reading.objects.get(reader=evaluator, coded_image=c)
    assert reading.status == "draft" and reading.removed == [hair] and len(reading.added) == 1
    assert reading.hair_count == c.automatic["hair_count"]
    assert page.locator("#my-count").inner_text().startswith(f"{reading.hair_count} hairs")
    until(page, "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    page.shot("draft-saved")
    page.fill("#id_password", "wrong password")
    page.click("#sign-form button")
    page.wait_for_load_state()
    assert "password is not correct" in page.content()
    page.fill("#id_password", PASSWORD)
    page.click("#sign-form button")
    page.wait_for_load_state()
    reading.refresh_from_db()
    assert reading.is_signed
    assert f"{c.code} signed" in page.content()
    page.shot("signed-next-image")
    page.goto("/studies/reading/")
    assert page.locator("#reading-queue tbody tr").count() == 5
    assert c.code not in page.locator("#reading-queue").inner_text()


def test_the_statistician_sees_reader_agreement(page, browser_login, coded, evaluator, evaluator2, statistician):
    from anagen.studies import reading_services

    study = coded[0].study
    for n, c in enumerate(coded[:4]):
        reading_services.reading_sign(actor=evaluator, coded=c, password=PASSWORD)
        reading_services.reading_save(actor=evaluator2, coded=c, removed=[h["id"] for h in c.automatic["hairs"]][:n % 3])
        reading_services.reading_sign(actor=evaluator2, coded=c, password=PASSWORD)
    browser_login(statistician)
    page.goto(f"/studies/{study.pk}/")
    page.click("text=Blinded reading: agreement")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Blinded reading: reader agreement"
    assert page.locator("#icc-2-1").inner_text()
    assert page.locator("#ba-bias").inner_text()
    page.shot("agreement")
