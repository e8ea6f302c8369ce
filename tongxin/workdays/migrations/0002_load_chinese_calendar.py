"""Load the holidays of every year the installed chinese-calendar knows, so that a new
installation counts working days from the start; later years come with ``load_workdays``."""

from django.db import migrations


def load(apps, schema_editor):
    from tongxin.workdays import rules

    CalendarDay = apps.get_model("workdays", "CalendarDay")
    CalendarYear = apps.get_model("workdays", "CalendarYear")
    present = set(CalendarYear.objects.values_list("year", flat=True))
    years = [y for y in rules.chinese_calendar_years() if y not in present]
    taken = set(CalendarDay.objects.values_list("day", flat=True))
    CalendarDay.objects.bulk_create(
        [
            CalendarDay(day=e.day, kind=e.kind.value, name=e.name, source="chinese_calendar")
            for e in rules.chinese_calendar_entries(years)
            if e.day not in taken
        ]
    )
    CalendarYear.objects.bulk_create(
        [CalendarYear(year=y, source="chinese_calendar") for y in years]
    )


class Migration(migrations.Migration):
    dependencies = [("workdays", "0001_workday_calendar")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
