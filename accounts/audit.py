"""Writing audit entries (call inside the transaction of the write being audited)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import transaction
from django.http import HttpRequest

from accounts.models import AuditEntry


def audit_record(
    *,
    request: HttpRequest | None,
    action: str,
    entity_type: str,
    entity_id: str = "",
    before: Any = None,
    after: Any = None,
    reason: str = "",
) -> AuditEntry:
    """Precondition: an atomic block is open, so the entry commits or rolls back with the
    change it describes."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_record must run inside the audited write's transaction")
    user = getattr(request, "user", None) if request is not None else None
    signed_in = bool(user is not None and user.is_authenticated)
    meta = request.META if request is not None else {}
    return AuditEntry.objects.create(
        actor=user if signed_in else None,
        actor_type=AuditEntry.ActorType.USER
        if signed_in
        else (
            AuditEntry.ActorType.ANONYMOUS if request is not None else AuditEntry.ActorType.SYSTEM
        ),
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
        reason=reason or "",
        ip_address=meta.get("REMOTE_ADDR") or None,
        user_agent=meta.get("HTTP_USER_AGENT", "")[:300],
    )


@contextmanager
def audited(
    *,
    request: HttpRequest | None,
    action: str,
    entity_type: str,
    entity_id: str,
    snapshot: Callable[[], dict[str, Any]],
    reason: str = "",
) -> Iterator[dict[str, Any]]:
    """Snapshot, run the block (the change), snapshot again, record the entry: one audited
    change. What the block puts in the yielded dict is added to ``after``. Precondition as for
    ``audit_record``: inside the change's transaction."""
    before = snapshot()
    extra: dict[str, Any] = {}
    yield extra
    audit_record(
        request=request,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after={**snapshot(), **extra},
        reason=reason,
    )
