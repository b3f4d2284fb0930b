from datetime import timedelta

from django.db import migrations, models


def expire_existing(apps, schema_editor):
    """Tokens made before expiry existed last 90 days from their creation, as new ones do."""
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in ApiToken.objects.filter(expires_at__isnull=True):
        token.expires_at = token.created_at + timedelta(days=90)
        token.save(update_fields=["expires_at"])


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="apitoken",
            name="expires_at",
            field=models.DateTimeField(help_text="After this time the token is refused.", null=True),
        ),
        migrations.RunPython(expire_existing, migrations.RunPython.noop),
    ]
