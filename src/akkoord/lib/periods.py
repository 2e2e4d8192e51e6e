"""Periods as people say them: "2 years", "18 months", "45 days" (not "730 days")."""

from django.utils.translation import ngettext

DAYS_PER_MONTH = 365.25 / 12


def describe_days(days: int) -> str:
    """A number of days in the largest whole unit it is, in the current language.

    Periods are set in round days ("90 days" for three months, "180" for six),
    so a month count within a day or two (at most three) of the calendar
    average is said in months; anything else stays in days.
    """
    days = int(days)
    months = round(days / DAYS_PER_MONTH)
    if months and abs(months * DAYS_PER_MONTH - days) <= min(3, max(1.5, months / 2)):
        if months % 12 == 0:
            years = months // 12
            return ngettext("%(count)d year", "%(count)d years", years) % {"count": years}
        return ngettext("%(count)d month", "%(count)d months", months) % {"count": months}
    return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
