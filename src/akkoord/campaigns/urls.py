from django.urls import path

from akkoord.campaigns import public_views

app_name = "campaigns"
urlpatterns = [
    path("u/<str:token>", public_views.unsubscribe, name="unsubscribe"),
    path("r/<str:token>", public_views.repermission, name="repermission"),
]
