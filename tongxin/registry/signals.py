"""What the registry tells the apps built on it. Receivers run inside the sender's transaction."""

from django.dispatch import Signal

# Sent with ``child`` (a Child) after its facts changed and it was reclassified: the visits app
# recomputes the child's risk level.
child_facts_changed = Signal()
