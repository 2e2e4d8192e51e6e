"""Only the URLs these tests need, so that they do not depend on other apps' pages
(the sign-in pages are stand-ins: the tests sign in with the conftest clients)."""

from django.http import HttpResponse
from django.urls import include, path


def _stand_in(request):
    return HttpResponse("")


_accounts = (
    [path("login/", _stand_in, name="login"), path("logout/", _stand_in, name="logout")],
    "accounts",
)

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("account/", include(_accounts)),
    path("", include("akkoord.api.urls")),
    path("", include("akkoord.transfer.urls")),
]
