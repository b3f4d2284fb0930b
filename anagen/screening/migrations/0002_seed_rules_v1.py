"""Seed version 1 of the screening rules: the practice's own criteria (seed_rules_v1.json).

Later versions are published on the screening rules page; this file and the JSON it reads are
never edited, so a fresh database always starts from the same version 1.
"""

import json
from pathlib import Path

from django.db import migrations

SEED = Path(__file__).resolve().parent.parent / "seed_rules_v1.json"


def seed(apps, schema_editor):
    RuleSet = apps.get_model("screening", "RuleSet")
    if RuleSet.objects.exists():
        return
    RuleSet.objects.create(version=1, rules=json.loads(SEED.read_text(encoding="utf-8")), is_active=True,
                           note="Version 1: the practice's candidacy criteria and standard contraindications.")


def unseed(apps, schema_editor):
    RuleSet = apps.get_model("screening", "RuleSet")
    RuleSet.objects.filter(version=1, screenings__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
