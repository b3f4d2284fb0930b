"""Seed the treatment catalogue with the modalities the clinics offer.

The values are starting defaults an admin edits afterwards; re-running leaves edited rows alone.
"""

from django.db import migrations

STANDARD_FOLLOW_UP = [4, 12, 23, 44, 58]
NO_EXERCISE = ("No strenuous exercise, sauna or swimming for 48 hours. Do not wash the hair for 24 hours; "
               "then wash gently with a mild shampoo. No hair dye, styling products or hats that press on the "
               "treated area for 72 hours. Paracetamol for discomfort; avoid aspirin and ibuprofen for 3 days. "
               "Call the clinic for fever, spreading redness, pus or bleeding that does not stop with pressure.")

CATALOGUE = [
    dict(code="hfsc_micrograft", name="Hair-follicle stem-cell micrograft", category="autologous_cells",
         description="2 mm punch biopsies from the occipital scalp, mechanically disaggregated in saline; the "
                     "suspension is infiltrated into the thinning area.",
         delivery_methods="injection", screening_code="hfsc_micrograft", sample_kind="biopsy",
         typical_sessions=1, interval_days=0, follow_up_weeks=STANDARD_FOLLOW_UP,
         aftercare=NO_EXERCISE + " Keep the biopsy sites dry for 24 hours; sutures, if any, out at 10 days."),
    dict(code="adipose_svf", name="Adipose-derived stem cells / stromal vascular fraction", category="autologous_cells",
         description="Lipoaspirate harvested under local anaesthesia, processed to the stromal vascular fraction "
                     "and injected into the scalp.",
         delivery_methods="injection", screening_code="adipose_stem_cells", sample_kind="lipoaspirate",
         typical_sessions=1, interval_days=0, follow_up_weeks=STANDARD_FOLLOW_UP,
         aftercare=NO_EXERCISE + " Wear the compression garment over the harvest site for 7 days."),
    dict(code="exosomes", name="Exosome product", category="biologic",
         description="Exosome product delivered by intradermal injection or by micro-needling.",
         delivery_methods="injection, micro-needling", screening_code="exosomes",
         typical_sessions=3, interval_days=28, follow_up_weeks=[12, 24, 48], aftercare=NO_EXERCISE),
    dict(code="prp", name="Platelet-rich plasma (PRP)", category="biologic",
         description="Autologous blood centrifuged to platelet-rich plasma, injected into the scalp.",
         delivery_methods="injection, micro-needling", screening_code="prp",
         typical_sessions=3, interval_days=30, follow_up_weeks=[12, 24, 48], aftercare=NO_EXERCISE),
    dict(code="hd_prp", name="High-density PRP (HD-PRP)", category="biologic",
         description="Double-spin platelet concentrate (about 5 to 7 times baseline), injected into the scalp.",
         delivery_methods="injection", screening_code="prp",
         typical_sessions=3, interval_days=30, follow_up_weeks=[12, 24, 48], aftercare=NO_EXERCISE),
    dict(code="scaffold", name="Scaffold / extracellular matrix (adjunct)", category="adjunct",
         description="Extracellular matrix or scaffold given with a cell or PRP treatment.",
         delivery_methods="injection", typical_sessions=1, interval_days=0, follow_up_weeks=[],
         aftercare="As for the treatment it accompanies."),
    dict(code="minoxidil", name="Topical minoxidil", category="adjunct",
         description="Minoxidil 5 % solution or foam, 1 ml twice daily to the dry scalp.",
         delivery_methods="topical", typical_sessions=1, interval_days=0, follow_up_weeks=[12, 24, 48],
         aftercare="Apply to a dry scalp and wash hands afterwards. Shedding in the first 2 to 8 weeks is expected. "
                   "Stop and call the clinic for dizziness, chest pain or swelling of the ankles."),
    dict(code="finasteride", name="Oral finasteride", category="drug",
         description="Finasteride 1 mg by mouth once daily.",
         delivery_methods="oral", typical_sessions=1, interval_days=0, follow_up_weeks=[12, 24, 48],
         aftercare="Take once daily. Women who are or may become pregnant must not handle crushed tablets. "
                   "Report low mood or sexual side effects to the clinic."),
    dict(code="dutasteride", name="Oral dutasteride", category="drug",
         description="Dutasteride 0.5 mg by mouth once daily.",
         delivery_methods="oral", typical_sessions=1, interval_days=0, follow_up_weeks=[12, 24, 48],
         aftercare="Take once daily. Do not donate blood during treatment and for 6 months after. "
                   "Report low mood or sexual side effects to the clinic."),
    dict(code="hair_transplant", name="Hair transplant (FUE / FUT)", category="surgery",
         description="Follicular unit extraction or strip harvest, implanted into the recipient area.",
         delivery_methods="surgical", typical_sessions=1, interval_days=0, follow_up_weeks=[1, 12, 26, 52],
         aftercare="Sleep with the head raised for 3 nights. No strenuous exercise for 2 weeks. Do not touch "
                   "or scratch the grafts; first gentle wash on day 2 as shown. Expect shedding at 2 to 6 weeks."),
]


def seed(apps, schema_editor):
    Modality = apps.get_model("treatments", "Modality")
    for row in CATALOGUE:
        Modality.objects.get_or_create(code=row["code"], defaults=row)


def unseed(apps, schema_editor):
    apps.get_model("treatments", "Modality").objects.filter(
        code__in=[r["code"] for r in CATALOGUE], procedures__isnull=True, plans__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("treatments", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
