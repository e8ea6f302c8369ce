"""Contacts recorded before issue 10 that name nobody reached (no child, no caregiver, no
parent) stop counting: their credits go. The contact rows stay, as what was recorded; only the
worklist and compliance stop reading them as contacts. There is no way back: an empty contact
never met an obligation (decision 007)."""

from django.db import migrations


def uncount(apps, schema_editor):
    ContactCredit = apps.get_model("visits", "ContactCredit")
    ContactCredit.objects.filter(
        contact__met_child=False, contact__met_caregiver=False, contact__met_parent=False
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("visits", "0003_risk_history")]

    operations = [migrations.RunPython(uncount, migrations.RunPython.noop)]
