from django.conf import settings


def staff(request):
    from akkoord.front.nav import nav_items

    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated and user.is_verified()
    return {
        "idle_timeout_minutes": settings.AKKOORD_IDLE_TIMEOUT_MINUTES,
        "nav": nav_items(request) if signed_in else [],
    }
