"""What the registry tells the apps built on it. Receivers run inside the sender's transaction."""

from django.dispatch import Signal

# Sent with ``child`` (a Child) after its facts changed and it was reclassified: the visits app
# recomputes the child's risk level.
child_facts_changed = Signal()

# Sent with ``households`` (a list of household ids) when retention archived every child of
# them (decision 019), inside its transaction: apps that keep narratives about a household (the
# visits app's contact notes) blank them too. Receivers may rewrite history rows only through
# ``tongxin.audit.database.history_rewrite``, which the sender already holds open.
households_archived = Signal()
