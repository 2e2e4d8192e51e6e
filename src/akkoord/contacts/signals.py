"""Signals other apps listen to (sent after the transaction commits)."""

from django.dispatch import Signal

# A person was registered for the first time: kwargs ``contact`` and ``channel``
# (a SourceKind value). The privacy confirmation mail listens to this.
contact_registered = Signal()

# Many people were registered at once (an import): kwargs ``contact_ids`` (a
# list of at most a few thousand ids; large imports send it once per chunk)
# and ``channel``. The contacts are new, so none of them waits on a sign-up
# confirmation. One signal per chunk instead of one per person, so that a
# million-row import queues a few thousand tasks, not a million.
contacts_registered = Signal()
