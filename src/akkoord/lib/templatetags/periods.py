from django import template

from akkoord.lib.periods import describe_days

register = template.Library()


@register.filter
def period(days) -> str:
    """``{{ activity.retention_days|period }}`` → "2 jaar" in Dutch, "2 years" in English."""
    return describe_days(days)
