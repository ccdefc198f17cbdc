"""The demo catalog's translations get a provider of their own ("demo"): until now they
posed as Kodik's (provider "kodik", external ids "demo-609"...)."""

from typing import Any

from django.db import migrations, models

DEMO_IDS = {
    "demo-610": "anilibria",
    "demo-609": "anidub",
    "demo-767": "shiza",
    "demo-869": "subtitles",
}


def to_demo_provider(apps: Any, schema_editor: Any) -> None:
    Translation = apps.get_model("catalog", "Translation")
    for old, new in DEMO_IDS.items():
        Translation.objects.filter(provider="kodik", external_id=old).update(
            provider="demo", external_id=new
        )


def to_kodik_provider(apps: Any, schema_editor: Any) -> None:
    Translation = apps.get_model("catalog", "Translation")
    for old, new in DEMO_IDS.items():
        Translation.objects.filter(provider="demo", external_id=new).update(
            provider="kodik", external_id=old
        )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_editorial_locks_and_stream_id"),
    ]

    operations = [
        migrations.AlterField(
            model_name="translation",
            name="provider",
            field=models.CharField(
                choices=[
                    ("kodik", "Kodik"),
                    ("stream", "Stream provider"),
                    ("demo", "Demo catalog"),
                ],
                max_length=16,
            ),
        ),
        migrations.RunPython(to_demo_provider, to_kodik_provider),
    ]
