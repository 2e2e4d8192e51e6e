from django.urls import path

from akkoord.front import settings_views, views

app_name = "front"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("settings/", settings_views.organisation_settings, name="settings"),
    path("settings/purposes/", settings_views.purpose_list, name="purposes"),
    path("settings/purposes/new/", settings_views.purpose_create, name="purpose_create"),
    path("settings/purposes/<int:pk>/", settings_views.purpose_edit, name="purpose_edit"),
    path("settings/fields/", settings_views.field_list, name="fields"),
    path("settings/fields/new/", settings_views.field_create, name="field_create"),
    path("settings/fields/<int:pk>/", settings_views.field_edit, name="field_edit"),
]
