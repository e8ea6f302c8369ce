# Joins the two 0005 branches (referrals and problems; interventions), written side by side.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('protection', '0005_interventions'),
        ('protection', '0005_referrals_and_problems'),
    ]

    operations = []
