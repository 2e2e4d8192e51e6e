"""Signals other apps listen to (sent after the transaction commits)."""

from django.dispatch import Signal

# A person was registered for the first time: kwargs ``contact`` and ``channel``
# (a SourceKind value). The privacy confirmation mail listens to this.
contact_registered = Signal()
