from django.urls import path

from akkoord.api import views
from akkoord.api.v1 import api

app_name = "api"
urlpatterns = [
    path("api/v1/docs/", views.docs, name="docs"),
    path("api/v1/", api.urls),
    path("api/keys/", views.keys, name="keys"),
    path("api/keys/<int:pk>/revoke/", views.revoke_key, name="revoke_key"),
]
