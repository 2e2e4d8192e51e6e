"""Only the URLs these tests need, so that they do not depend on other apps' pages
(the sign-in pages are stand-ins: the tests sign in with the conftest clients)."""

from django.http import HttpResponse
from django.urls import include, path


def _stand_in(request, **kwargs):
    return HttpResponse("")


_accounts = (
    [
        path("login/", _stand_in, name="login"),
        path("logout/", _stand_in, name="logout"),
        path("verify/", _stand_in, name="verify"),
        path("enrol/", _stand_in, name="enrol"),
    ],
    "accounts",
)
_front = ([path("", _stand_in, name="dashboard")], "front")
_contacts = ([path("<int:pk>/", _stand_in, name="detail")], "contacts")

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("account/", include(_accounts)),
    path("contacts/", include(_contacts)),
    path("dashboard/", include(_front)),
    path("", include("akkoord.accountability.urls")),
]
