from django.urls import path

from akkoord.accountability import public_views, views

app_name = "accountability"
urlpatterns = [
    path("accountability/", views.index, name="index"),
    path("accountability/register/", views.register_view, name="register"),
    path("accountability/register/save/", views.register_save, name="register_save"),
    path("accountability/register/export.<str:fmt>", views.register_export, name="register_export"),
    path("accountability/register/categories/", views.category_retention, name="categories"),
    path("accountability/activities/<int:pk>/", views.activity_edit, name="activity"),
    path("accountability/settings/", views.settings_edit, name="settings"),
    path("accountability/processors/new/", views.processor_edit, name="processor_new"),
    path("accountability/processors/<int:pk>/", views.processor_edit, name="processor"),
    path(
        "accountability/processors/<int:pk>/delete/",
        views.processor_delete,
        name="processor_delete",
    ),
    path("accountability/statement/", views.statement_view, name="statement"),
    path("accountability/statement/publish/", views.statement_publish, name="statement_publish"),
    path("accountability/statement/renewal/", views.renewal, name="renewal"),
    path("accountability/breaches/", views.breach_list, name="breaches"),
    path("accountability/breaches/new/", views.breach_edit, name="breach_new"),
    path("accountability/breaches/<int:pk>/", views.breach_detail, name="breach"),
    path("accountability/breaches/<int:pk>/edit/", views.breach_edit, name="breach_edit"),
    path("accountability/breaches/<int:pk>/notify/", views.breach_notify, name="breach_notify"),
    path("accountability/retention/", views.retention_view, name="retention"),
    path("accountability/retention/run/", views.retention_start, name="retention_run"),
    path("privacy", public_views.privacy, name="privacy"),
    path("privacy/", public_views.privacy),
    path("privacy/<int:number>/", public_views.statement_version, name="statement_version"),
]
