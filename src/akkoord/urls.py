"""URL map. Apps mounted at the root own their own prefixes:

signup: /forms/ (staff), /f/ (public)      centre: /centre/ (public), /requests/ (staff)
campaigns: /campaigns/ (staff), /u/ and /r/ (public unsubscribe, re-permission)
accountability: /accountability/ (staff), /privacy (public)
notices: /notices/ (staff)   api: /api/v1/   transfer: /transfer/ (staff)
"""

from django.urls import include, path

from akkoord.front import views as front_views

urlpatterns = [
    path("healthz", front_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("account/", include("akkoord.accounts.urls")),
    path("contacts/", include("akkoord.contacts.urls")),
    path("consent/", include("akkoord.consent.urls")),
    path("mail/", include("akkoord.mail.urls")),
    path("", include("akkoord.notices.urls")),
    path("", include("akkoord.signup.urls")),
    path("", include("akkoord.centre.urls")),
    path("", include("akkoord.campaigns.urls")),
    path("", include("akkoord.segments.urls")),
    path("", include("akkoord.accountability.urls")),
    path("", include("akkoord.api.urls")),
    path("", include("akkoord.transfer.urls")),
    path("", include("akkoord.deliverability.urls")),
    path("", include("akkoord.front.urls")),
]
