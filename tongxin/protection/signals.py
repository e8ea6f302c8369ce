"""What protection tells the apps built on it. Receivers run inside the sender's transaction."""

from django.dispatch import Signal

# Sent with ``children`` (a tuple of Child, each once) after problems about them were raised,
# closed, reopened or changed in severity or category: the visits app recomputes their risk
# levels.
problems_changed = Signal()
