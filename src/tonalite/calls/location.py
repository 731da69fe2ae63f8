"""The location service (RFC 3261 §10): each line's registered device, as this node knows it.

The registrar reads and changes bindings here, in memory, at the speed of a dictionary; the changes are
written to the database in batches by `flush` (run off the event loop, a few times a second), so a
REGISTER never waits for a disk write. A binding lost in a crash between two flushes is at most one
refresh old: the phone's next REGISTER restores it. Bindings are loaded back at start-up.
"""

from __future__ import annotations

from datetime import datetime

from tonalite.calls.write_behind import WriteBehind
from tonalite.services.registrations import Binding, RecordedEvent, RegistrationChanges, RegistrationService
from tonalite.store.models import RegistrationEventKind


class LocationService:
    def __init__(self, registrations: RegistrationService) -> None:
        self._registrations = registrations
        self._bindings: dict[int, Binding] = {}
        self._pending = RegistrationChanges()
        self._writer = WriteBehind(self._changes_to_write, registrations.apply)

    def load(self) -> None:
        """Take the stored, unexpired bindings: the phones registered before a restart stay reachable."""
        self._bindings = {binding.line_id: binding for binding in self._registrations.all_current()}

    def current(self, line_id: int, now: datetime) -> Binding | None:
        binding = self._bindings.get(line_id)
        return binding if binding is not None and binding.expires_at > now else None

    def bind(self, binding: Binding) -> Binding | None:
        """Store a line's binding; returns the binding of another device it replaced, if any.

        A refresh (same Call-ID and contact, RFC 3261 §10.2.4) keeps the registration's start and leaves no
        history. A new registration is recorded, and so is the binding it replaced when that was another
        device (another contact): the same contact under a new Call-ID is the same phone restarted, which
        replaced nobody.
        """
        previous = self.current(binding.line_id, binding.registered_at)
        if previous is not None and previous.refreshed_by(binding):
            binding = binding._replace(registered_at=previous.registered_at)
            self._set(binding)
            return None
        self._set(binding)
        replaced = previous if previous is not None and previous.contact != binding.contact else None
        if replaced is not None:
            self._record(replaced, RegistrationEventKind.REPLACED, binding.registered_at)
        self._record(binding, RegistrationEventKind.REGISTERED, binding.registered_at)
        return replaced

    def unbind(self, line_id: int, now: datetime) -> Binding | None:
        removed = self._bindings.pop(line_id, None)
        if removed is None:
            return None
        self._remove(line_id)
        self._record(removed, RegistrationEventKind.UNREGISTERED, now)
        return removed

    def expire(self, now: datetime) -> list[Binding]:
        expired = [binding for binding in self._bindings.values() if binding.expires_at <= now]
        for binding in expired:
            del self._bindings[binding.line_id]
            self._remove(binding.line_id)
            self._record(binding, RegistrationEventKind.EXPIRED, now)
        return expired

    async def flush(self) -> None:
        """Write the changes since the last flush, off the loop, in order (see WriteBehind)."""
        await self._writer.flush()

    def _changes_to_write(self) -> RegistrationChanges | None:
        changes = self.take_changes()
        return None if changes.empty else changes

    def take_changes(self) -> RegistrationChanges:
        """The changes since the last call, for `RegistrationService.apply` (what `flush` writes)."""
        changes, self._pending = self._pending, RegistrationChanges()
        return changes

    def _set(self, binding: Binding) -> None:
        self._bindings[binding.line_id] = binding
        self._pending.bound[binding.line_id] = binding
        self._pending.removed.discard(binding.line_id)

    def _remove(self, line_id: int) -> None:
        self._pending.bound.pop(line_id, None)
        self._pending.removed.add(line_id)

    def _record(self, binding: Binding, kind: RegistrationEventKind, at: datetime) -> None:
        self._pending.events.append(RecordedEvent(binding.line_id, kind, binding, at))
