"""One way to write the audit log: ``audit(actor, action, obj)``."""

from akkoord.accounts.models import AuditAction, AuditEntry


def actor_label(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return "system"
    return user.email


def audit(user, action: AuditAction | str, obj=None, *, object_type: str = "", detail: str = ""):
    """Record that ``user`` did ``action`` to ``obj``.

    ``detail`` must not contain a contact's personal data: name objects by id.
    ``user`` may also be a non-user actor with an ``audit_label`` (an API client).
    """
    label = getattr(user, "audit_label", None) or actor_label(user)
    real_user = (
        user if getattr(user, "_meta", None) and user._meta.label == "accounts.User" else None
    )
    return AuditEntry.objects.create(
        user=real_user,
        actor=label[:200],
        action=str(action),
        object_type=object_type or (obj._meta.model_name if obj is not None else ""),
        object_id=str(obj.pk) if obj is not None else "",
        detail=detail[:300],
    )


def audit_list_view(user, object_type: str, ids, *, page_number: int, filtered: bool = False):
    """Record that ``user`` viewed one page of a list that shows personal data.

    One entry per page view, not one per row; the rows are named by id in the
    detail (as many as fit). What was searched for is not recorded: a search
    term is often an address.
    """
    ids = [str(pk) for pk in ids]
    detail = f"list page {page_number}, {len(ids)} shown" + (", filtered" if filtered else "")
    if ids:
        detail += ": " + ",".join(ids)
        if len(detail) > 300:
            detail = detail[:299].rsplit(",", 1)[0] + ",…"
    return audit(user, AuditAction.VIEW, object_type=object_type, detail=detail)
