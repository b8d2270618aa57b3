from django.db import migrations

from webapp.core.triggers import refuse_updates_operation


class Migration(migrations.Migration):
    dependencies = [("guidelines", "0001_initial")]
    operations = [
        refuse_updates_operation("guidelines_guidelineversion",
                                 "published guideline versions are immutable; publish a new version"),
    ]
