"""Writes to the child's file, the public entry other apps call. Each runs in one transaction
with its audit entry; each edit names the version it was based on and is refused when someone
else's edit came first. One module per thing written: ID numbers (``ids``), the categories
(``classification``), the family (``households``), its parents and their spells of work away
(``parents``), the child's own file (``children``). What several of them share is in
``common``."""

from tongxin.registry.services.children import (
    CHILD_FIELDS,
    CHILD_FORM_FIELDS,
    Registered,
    child_access_denied,
    child_copy_given,
    child_file_opened,
    child_register,
    child_set_status,
    child_update,
    manual_decision_record,
)
from tongxin.registry.services.classification import (
    category_history_rebuild,
    child_reclassify,
    reclassify_all,
)
from tongxin.registry.services.households import (
    HOUSEHOLD_FIELDS,
    HOUSEHOLD_FORM_FIELDS,
    household_create,
    household_transfer,
    household_update,
)
from tongxin.registry.services.ids import (
    AGREEMENT_ID_PREFIX,
    CAREGIVER_ID,
    CHILD_ID,
    DuplicateIdNumber,
    IdNumber,
    NoSuchIdNumber,
    id_number_prepare,
    id_number_reveal,
)
from tongxin.registry.services.parents import (
    MIGRATION_FIELDS,
    PARENT_FIELDS,
    migration_save,
    parent_save,
)

__all__ = [
    "AGREEMENT_ID_PREFIX",
    "CAREGIVER_ID",
    "CHILD_FIELDS",
    "CHILD_FORM_FIELDS",
    "CHILD_ID",
    "HOUSEHOLD_FIELDS",
    "HOUSEHOLD_FORM_FIELDS",
    "MIGRATION_FIELDS",
    "PARENT_FIELDS",
    "DuplicateIdNumber",
    "IdNumber",
    "NoSuchIdNumber",
    "Registered",
    "category_history_rebuild",
    "child_access_denied",
    "child_copy_given",
    "child_file_opened",
    "child_reclassify",
    "child_register",
    "child_set_status",
    "child_update",
    "household_create",
    "household_transfer",
    "household_update",
    "id_number_prepare",
    "id_number_reveal",
    "manual_decision_record",
    "migration_save",
    "parent_save",
    "reclassify_all",
]
