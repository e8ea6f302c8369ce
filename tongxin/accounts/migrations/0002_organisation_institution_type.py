"""An institution's type (school, kindergarten, medical, welfare, hotel, other), required for
institutions and empty for the other kinds of organisation.

The institutions already there get theirs from the words of their name, once, here: until this
migration the report statistics guessed the type from those words at every count. From now on
the type is chosen when an institution is registered, and nothing reads names for it.
``type_from_name`` is also used by protection's migration 0007, for the institutions callers
named in reports recorded by phone or in person."""

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

# The words of a name that say its kind, checked in this order (a 社区卫生服务中心 is medical
# before it is a community). A frozen copy of the table protection.stats used to read.
WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("kindergarten", ("幼儿园", "托儿所", "托育")),
    ("school", ("学校", "小学", "中学", "学院", "教学点", "培训")),
    ("medical", ("医院", "卫生院", "卫生室", "卫生服务", "诊所", "急救", "妇幼", "保健")),
    ("welfare", ("福利", "救助", "社会工作", "社工")),
    ("hotel", ("宾馆", "旅店", "旅馆", "酒店", "民宿")),
    ("village_committee", ("村民委员会", "居民委员会", "村委会", "居委会", "社区")),
    ("government", ("人民政府", "局", "派出所", "法院", "检察院", "妇联", "团委", "街道")),
)
INSTITUTION_TYPES = ("school", "kindergarten", "medical", "welfare", "hotel", "other")


def type_from_name(name: str, *, institution: bool = True) -> str:
    """The kind the words of ``name`` say: an institution type, or with ``institution``
    False also ``village_committee`` or ``government``; "other" when no word matches."""
    for key, words in WORDS:
        if any(word in name for word in words):
            if institution and key not in INSTITUTION_TYPES:
                return "other"
            return key
    return "other"


def fill(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Organisation = apps.get_model("accounts", "Organisation")
    db = schema_editor.connection.alias
    by_type: dict[str, list[int]] = {}
    for pk, name in (
        Organisation.objects.using(db).filter(kind="institution").values_list("pk", "name")
    ):
        by_type.setdefault(type_from_name(name), []).append(pk)
    for institution_type, pks in by_type.items():
        for start in range(0, len(pks), 500):
            Organisation.objects.using(db).filter(pk__in=pks[start : start + 500]).update(
                institution_type=institution_type
            )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="organisation",
            name="institution_type",
            field=models.CharField(
                blank=True,
                choices=[
                    ("school", "School"),
                    ("kindergarten", "Kindergarten or childcare"),
                    ("medical", "Medical institution"),
                    ("welfare", "Welfare or rescue institution"),
                    ("hotel", "Hotel or lodging"),
                    ("other", "Other institution"),
                ],
                max_length=20,
                verbose_name="institution type",
            ),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="organisation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("kind", "institution"), models.Q(("institution_type", ""), _negated=True)
                    ),
                    models.Q(
                        models.Q(("kind", "institution"), _negated=True), ("institution_type", "")
                    ),
                    _connector="OR",
                ),
                name="organisation_institution_type_for_institutions",
            ),
        ),
    ]
