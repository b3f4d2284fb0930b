"""Assessments in the demo: calibrated dermoscopes, assessment visits and synthetic target-area
phototrichograms with a known hair count, counted by the image engine."""

from __future__ import annotations

import io
import time as _time
from datetime import date, timedelta

from django.utils import timezone

from anagen.demo.clock import HISTORY_WEEKS, LONDON, _office
from anagen.demo.context import DemoContext

# --- image settings -------------------------------------------------------------------------
# A 20x dermoscope calibrated at 90 px/mm; 432 x 576 px is a 4.8 x 6.4 mm field (0.307 cm²),
# small enough that a synthetic image is drawn and counted in well under a second.
DERMOSCOPE_PX_PER_MM = 90.0
IMAGE_SHAPE = (432, 576)
FIELD_AREA_CM2 = IMAGE_SHAPE[0] * IMAGE_SHAPE[1] / DERMOSCOPE_PX_PER_MM ** 2 / 100.0
# The regrowth pair (clipped image and the same area 2 days later) needs room for each hair to
# grow, so the generator can only place it on sparser scalps.
REGROWTH_MAX_DENSITY = 105.0

# Mean change in true density (hairs/cm²) at the end of follow-up, per modality. The engine
# misses some vellus and crossing hairs (it reports about 86 % of the true count), so measured
# changes come out a little smaller: micrografts about +22, exosomes/PRP +16 to +19, minoxidil
# +18 (cf. +18.6, SD 25.4, at 48 weeks in the 5 % minoxidil trial), placebo-like about 0.
EFFECT_MEAN = {
    "hfsc_micrograft": 26.0, "adipose_svf": 22.0, "exosomes": 20.0, "prp": 19.0, "hd_prp": 22.0,
    "minoxidil": 21.0, "finasteride": 15.0, "dutasteride": 19.0, "hair_transplant": 45.0, "scaffold": 3.0,
}
EFFECT_SD = 20.0
VISIT_NOISE_SD = 6.0  # re-positioning on the tattooed target area


def _response_fraction(code: str, week: int) -> float:
    """Share of the final effect reached ``week`` weeks after the last session."""
    curve = {4: 0.05, 12: 0.45, 23: 0.8, 44: 1.0, 58: 1.0}
    if code == "minoxidil":
        curve = {4: -0.25, 12: 0.4, 23: 0.8, 44: 1.0, 58: 0.95}  # early shedding
    if code in ("prp", "hd_prp", "exosomes"):
        curve = {4: 0.1, 12: 0.55, 23: 0.9, 44: 1.0, 58: 0.9}  # fades a little without top-ups
    if code == "hair_transplant":
        curve = {4: -0.1, 12: 0.2, 23: 0.7, 44: 1.0, 58: 1.0}  # graft shedding, then growth
    return curve.get(week, 1.0)


def _device_profiles(ctx: DemoContext) -> None:
    # Calibrated dermoscopes: configuration an admin enters (there is no service for it).
    from anagen.assessments.models import DeviceProfile

    day = ctx.today - timedelta(weeks=HISTORY_WEEKS + 8)
    for slug, clinic in ctx.clinics.items():
        with ctx.act(ctx.admin, _office(ctx, day)):
            DeviceProfile.objects.create(clinic=clinic, name="Consulting room 1 dermoscope (20x)",
                                         engine_profile="dermoscope-20x", px_per_mm=DERMOSCOPE_PX_PER_MM,
                                         is_default=True)


class AssessmentSteps:
    """The assessment visits of :class:`anagen.demo.stories.PatientRun`."""

    def follow_up(self, weeks: int, appointment) -> None:
        clinician = appointment.clinician
        day = timezone.localtime(appointment.starts_at, LONDON).date()
        self.advance(appointment.starts_at)
        self.visit(appointment, day, baseline=False, clinician=clinician, weeks=weeks)
        self.complete(appointment)
        self.visit_weeks_done.append(weeks)

    # -- assessment visits and images

    def true_density(self, weeks: int | None) -> float:
        change = 0.0 if weeks is None else self.effect * _response_fraction(self.lead, weeks)
        noise = self.rng.gauss(0, VISIT_NOISE_SD) if not self.s.showcase else self.rng.gauss(0, 2.5)
        return max(20.0, self.density + change + noise)

    def visit(self, appointment, day: date, *, baseline: bool, clinician, weeks: int | None = None) -> None:
        from anagen.assessments.services import visit_create, visit_update

        ctx, rng = self.ctx, self.rng
        with ctx.act(clinician, self.advance(self.t + timedelta(minutes=3))):
            visit = visit_create(actor=clinician, patient=self.patient, visit_date=day, is_baseline=baseline,
                                 appointment=appointment, plan=self.plan)
        ctx.stats["visits"] += 1
        density = self.true_density(None if baseline else weeks)
        if ctx.stats["images"] < ctx.max_images or self.s.showcase:
            self.upload_images(visit, clinician, density, weeks)
            self.upload_photos(visit, clinician, density)
        if not baseline:
            change = density - self.density
            investigator = max(-3, min(3, round(change / 12 + rng.gauss(0, 0.5))))
            patient_global = max(-3, min(3, round(change / 12 + rng.gauss(0.3, 0.9))))
            with ctx.act(clinician, self.advance(self.t + timedelta(minutes=6))):
                visit_update(actor=clinician, visit=visit, investigator_global=investigator,
                             patient_global=patient_global,
                             adverse_events_since_last_visit="" if rng.random() < 0.9 else
                             "Mild tenderness for two days after the last session.")

    def upload_images(self, visit, clinician, density: float, weeks: int | None) -> None:
        """A target-area phototrichogram drawn with a known hair count, counted by the engine.

        Regrowth patients also get the same area photographed 2 days after clipping (anagen %).
        """
        from django.core.files.uploadedfile import SimpleUploadedFile

        from anagen.assessments.services import trichogram_image_upload
        from anagen.trichoscopy.synthetic import generate_regrowth_pair, generate_scalp

        ctx, rng = self.ctx, self.rng
        started = _time.perf_counter()
        n_hairs = max(6, round(density * FIELD_AREA_CM2))
        seed = ctx.image_rng.randrange(2**31)
        change = 0.0 if weeks is None else density - self.density
        tone = self.skin_tone
        hair = ("black", "dark_brown", "brown") if tone == "light" else ("black", "dark_brown")
        images = []
        if self.regrowth and density <= REGROWTH_MAX_DENSITY:
            anagen = min(0.92, max(0.6, 0.76 + 0.004 * change))
            try:
                clipped, regrown = generate_regrowth_pair(seed, n_hairs=n_hairs, px_per_mm=DERMOSCOPE_PX_PER_MM,
                                                          shape=IMAGE_SHAPE, anagen_fraction=anagen, days=2.0,
                                                          skin_tone=tone)
                images = [("target", clipped.image), ("regrowth", regrown.image)]
            except ValueError:  # too dense to leave room for growth: a single image instead
                images = []
        if not images:
            # The vellus share stays the patient's own: the engine misses some vellus hairs, so a
            # share that changed between visits would show as a change in the count.
            # The same tattooed area at every visit: the follow-up shows the baseline's hairs (a few
            # lost, new ones grown), so the clinic's visit matching has real pairs to match.
            area = self.target_area(seed, tone, hair)
            if area is not None:
                scalp = area.photograph(n_hairs)
            else:
                scalp = generate_scalp(seed, n_hairs=n_hairs, px_per_mm=DERMOSCOPE_PX_PER_MM, shape=IMAGE_SHAPE,
                                       skin_tone=tone, vellus_fraction=self.vellus_fraction, crossings=1,
                                       parallel_pairs=1, length_mm=(0.3, 0.7), hair_colours=hair)
            images = [("target", scalp.image)]
        with ctx.act(clinician, self.advance(self.t + timedelta(minutes=8))):
            for kind, pixels in images:
                upload = SimpleUploadedFile(f"{kind}-{visit.visit_date:%Y%m%d}.jpg", _jpeg(pixels), "image/jpeg")
                trichogram_image_upload(actor=clinician, visit=visit, file=upload, kind=kind)
                ctx.stats["images"] += 1
        ctx.image_seconds += _time.perf_counter() - started


    def target_area(self, seed: int, tone: str, hair: tuple[str, ...]):
        """The patient's target area (laid out at the first image), or None when it cannot hold
        the most hairs it may need (a very dense scalp: each visit is then drawn afresh)."""
        from anagen.trichoscopy.synthetic import TargetArea

        if getattr(self, "_target_area", False) is False:
            most = (self.density + max(0.0, self.effect) + 3 * VISIT_NOISE_SD) * FIELD_AREA_CM2
            try:
                self._target_area = TargetArea(seed, max_hairs=max(8, round(most)), px_per_mm=DERMOSCOPE_PX_PER_MM,
                                               shape=IMAGE_SHAPE, skin_tone=tone, hair_colours=hair,
                                               vellus_fraction=self.vellus_fraction, crossings=1, parallel_pairs=1,
                                               length_mm=(0.3, 0.7))
            except ValueError:
                self._target_area = None
        return self._target_area

    def upload_photos(self, visit, clinician, density: float) -> None:
        """Global photographs of three views, drawn with hair that thins or fills in with the density."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        from anagen.assessments.services import global_photo_upload

        ctx = self.ctx
        seed = self.patient.pk  # the patient's own head at every visit; only the thinning changes
        with ctx.act(clinician, self.advance(self.t + timedelta(minutes=2))):
            for view in PHOTO_VIEWS:
                data = draw_global_photo(view, density, seed=seed, skin_tone=self.skin_tone)
                upload = SimpleUploadedFile(f"{view}-{visit.visit_date:%Y%m%d}.jpg", data, "image/jpeg")
                global_photo_upload(actor=clinician, visit=visit, view=view, file=upload)
                ctx.stats["photos"] += 1


# Views photographed at every demo visit; three keep the demo quick.
PHOTO_VIEWS = ("frontal", "vertex", "top")
PHOTO_SIZE = (360, 270)
_SKIN = {"light": (228, 190, 165), "medium": (190, 140, 105), "dark": (120, 80, 55)}


def draw_global_photo(view: str, density: float, *, seed: int, skin_tone: str = "light") -> bytes:
    """A simple drawn head seen from ``view``: hair strokes over the scalp, fewer where it thins.

    ``density`` (true hairs/cm² of the target area) sets how many strokes the thinning zone
    keeps: a crown for vertex and top, the temples and hairline for frontal.
    """
    import math
    import random

    from PIL import Image, ImageDraw

    rng = random.Random(seed)  # the same strokes at every visit; only the thinning zone changes
    w, h = PHOTO_SIZE
    image = Image.new("RGB", PHOTO_SIZE, (206, 214, 222))
    draw = ImageDraw.Draw(image)
    skin = _SKIN.get(skin_tone, _SKIN["light"])
    cx, cy, rx, ry = w / 2, h / 2 + (30 if view == "frontal" else 0), 120, 105 if view != "frontal" else 125
    draw.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], fill=skin)
    if view == "frontal":  # eyes and brows
        for dx in (-45, 45):
            draw.ellipse([cx + dx - 12, cy + 5, cx + dx + 12, cy + 17], fill=(250, 250, 250), outline=(60, 50, 45))
            draw.line([cx + dx - 16, cy - 8, cx + dx + 16, cy - 8], fill=(70, 50, 40), width=4)
    keep = max(0.08, min(1.0, (density - 30.0) / 130.0))
    hair = (45, 32, 25)
    for _ in range(2600):
        angle, r = rng.uniform(0, 2 * math.pi), math.sqrt(rng.random())
        x, y = cx + r * rx * math.cos(angle), cy + r * ry * math.sin(angle)
        if view == "frontal":
            if y > cy - 0.35 * ry:  # forehead and face stay bare
                continue
            # the hairline recedes at the temples: thinner there the lower the density
            thin = abs(x - cx) / rx > 0.35 and y > cy - 0.8 * ry
        else:
            crown = (cx + 10, cy - 10) if view == "vertex" else (cx, cy + 20)
            thin = math.hypot(x - crown[0], y - crown[1]) < 0.55 * rx
        if thin and rng.random() > keep:
            continue
        length = rng.uniform(5, 10)
        tilt = math.atan2(y - cy, x - cx) + rng.uniform(-0.5, 0.5)
        draw.line([x, y, x + length * math.cos(tilt), y + length * math.sin(tilt)], fill=hair, width=1)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _jpeg(pixels) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=92)
    return buffer.getvalue()
