from django.db import migrations

from webapp.core.triggers import refuse_updates_operation


class Migration(migrations.Migration):
    dependencies = [("comparisons", "0001_initial")]
    operations = [
        refuse_updates_operation("comparisons_judgment", "judgments are append-only; submit a correction"),
    ]
