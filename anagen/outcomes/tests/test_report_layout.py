"""The progress report's page layout, read from WeasyPrint's layout boxes: no table row split
across pages, every image inside the page, the images two by two, readable chart labels and a
y axis from zero. The pages are also rendered to PNG (test-artifacts/report/) to look at."""

from __future__ import annotations

import io
import os
import re

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from anagen.outcomes import report

from . import factories as f

pytestmark = pytest.mark.django_db

ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "test-artifacts", "report")


def _photo(size, colour):
    from PIL import Image, ImageDraw

    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    for i in range(0, size[0], 40):
        draw.line([i, 0, i + 120, size[1]], fill=(30, 20, 15), width=3)
    buf = io.BytesIO()
    image.save(buf, format="JPEG")
    return buf.getvalue()


@pytest.fixture
def long_history(coordinator, clinician):
    """A patient measured at 30 visits (the table runs over pages), with large portrait and
    landscape target images at baseline and the latest visit."""
    p = f.make_patient(coordinator=coordinator, clinician=clinician, first="Theo", last="Long")
    visits = [f.measure(clinician=clinician, patient=p, on=f.day(days=-3), hair_count=80, baseline=True)]
    f.treat(clinician=clinician, patient=p, on=f.day(0))
    for week in range(2, 61, 2):
        visits.append(f.measure(clinician=clinician, patient=p, on=f.day(week), hair_count=80 + week // 4,
                                weeks=week, diameter=55.0 + week / 10, investigator_global=1, patient_global=1))
    for visit, size in ((visits[0], (2400, 1800)), (visits[-1], (1200, 2400))):
        image = f.attach_target_image(visit)
        name = default_storage.save(f"report-test/{visit.pk}.jpg", ContentFile(_photo(size, (200, 160, 140))))
        type(image).objects.filter(pk=image.pk).update(file=name, width=size[0], height=size[1])
    return p


def _boxes(box):
    yield box
    for child in getattr(box, "children", []) or []:
        yield from _boxes(child)


def _layout(html):
    from weasyprint import HTML

    return HTML(string=html, base_url=".").render()


def _save_pngs(pdf: bytes, name: str) -> list[str]:
    import pypdfium2

    os.makedirs(ARTIFACTS, exist_ok=True)
    paths = []
    document = pypdfium2.PdfDocument(pdf)
    for i in range(len(document)):
        path = os.path.join(ARTIFACTS, f"{name}-page-{i + 1}.png")
        document[i].render(scale=1.5).to_pil().save(path)
        paths.append(path)
    return paths


def test_rows_are_never_split_and_images_fit_the_page(long_history, clinician):
    from weasyprint.formatting_structure import boxes

    html = report.progress_report_html(user=clinician, patient=long_history)
    document = _layout(html)
    assert len(document.pages) >= 2  # the table runs over a page break
    rows_on_page: dict[int, set[int]] = {}
    images = 0
    for number, page in enumerate(document.pages):
        page_box = page._page_box
        content = page_box.children[0] if page_box.children else page_box
        x0 = page_box.margin_left
        x1 = page.width - page_box.margin_right
        y1 = page.height - page_box.margin_bottom
        for box in _boxes(page_box):
            if isinstance(box, boxes.TableRowBox):
                rows_on_page.setdefault(id(box.element), set()).add(number)
            if isinstance(box, boxes.ReplacedBox) and getattr(box, "element_tag", "") == "img":
                images += 1
                left, top = box.border_box_x(), box.border_box_y()
                assert left >= x0 - 0.5 and left + box.border_width() <= x1 + 0.5, \
                    f"an image runs off the side of page {number + 1}"
                assert top + box.border_height() <= y1 + 0.5, f"an image runs off page {number + 1}"
        assert content is not None
    split = [pages for pages in rows_on_page.values() if len(pages) > 1]
    # a repeated header row (thead) is on several pages by design; a body row never is
    headers = {id(b.element) for page in document.pages for b in _boxes(page._page_box)
               if isinstance(b, boxes.TableRowGroupBox) and b.is_header for b in _boxes(b)
               if isinstance(b, boxes.TableRowBox)}
    assert not [pages for key, pages in rows_on_page.items() if len(pages) > 1 and key not in headers], split
    assert images == 4  # baseline and latest, photograph and overlay
    pdf = document.write_pdf()
    paths = _save_pngs(pdf, "long-history")
    assert len(paths) == len(document.pages) and os.path.getsize(paths[0]) > 10_000


def test_the_images_are_two_by_two_and_the_same_size_in_a_row(long_history, clinician):
    from weasyprint.formatting_structure import boxes

    document = _layout(report.progress_report_html(user=clinician, patient=long_history))
    imgs = [(n, b) for n, page in enumerate(document.pages) for b in _boxes(page._page_box)
            if isinstance(b, boxes.ReplacedBox) and getattr(b, "element_tag", "") == "img"]
    (pa, a1), (pb, a2), (pc, b1), (pd, b2) = imgs
    assert pa == pb and pc == pd  # photograph and overlay of a visit on the same page
    assert abs(a1.border_box_y() - a2.border_box_y()) < 1 and a1.border_box_x() < a2.border_box_x()  # side by side
    assert b1.border_box_y() > a1.border_box_y() or pc > pa  # latest below baseline
    page_width = document.pages[0].width
    for _, box in imgs:
        assert box.width <= page_width / 2  # each fits its half of the page


def test_the_chart_starts_at_zero_with_readable_labels(treated_patient, clinician):
    context = report.progress_report_context(user=clinician, patient=treated_patient)
    svg = context["chart"].svg
    assert 'font-size="16"' in svg
    ticks = [float(t) for t in re.findall(r'text-anchor="end" fill="[^"]+">([\d.]+)</text>', svg)]
    assert ticks[0] == 0.0 and ticks[-1] >= 152.3
    # the page keeps its zoomed axis for the clinician
    page_svg = context["progress"].charts[0].svg
    page_ticks = [float(t) for t in re.findall(r'text-anchor="end" fill="[^"]+">([\d.]+)</text>', page_svg)]
    assert page_ticks[0] > 0


def test_plain_words_glossary_and_the_caveat(treated_patient, clinician):
    from .pdftext import pdf_text

    text = pdf_text(report.progress_report_pdf(user=clinician, patient=treated_patient, uncompressed=True))
    for words in ("Thick (terminal) / fine (vellus)", "Growing (anagen) %", "Words in this report", "Terminal hair",
                  "Vellus hair", "Anagen", "measurement", "variation rather than real change"):
        assert words in text, words
    paths = _save_pngs(report.progress_report_pdf(user=clinician, patient=treated_patient), "treated")
    assert paths
