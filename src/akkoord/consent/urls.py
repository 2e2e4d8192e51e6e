from django.urls import path

from akkoord.consent import views

app_name = "consent"
urlpatterns = [
    path("contacts/<int:pk>/grant/", views.grant, name="grant"),
    path("contacts/<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("contacts/<int:pk>/object/", views.object_to_marketing, name="object"),
]
