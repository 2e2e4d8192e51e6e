from django.urls import include, path

from akkoord.front import views as front_views

urlpatterns = [
    path("healthz", front_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("akkoord.front.urls")),
    path("account/", include("akkoord.accounts.urls")),
    path("contacts/", include("akkoord.contacts.urls")),
    path("consent/", include("akkoord.consent.urls")),
    path("mail/", include("akkoord.mail.urls")),
]
