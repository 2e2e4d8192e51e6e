from django.urls import path

from akkoord.transfer import views

app_name = "transfer"
urlpatterns = [
    path("transfer/", views.index, name="index"),
    path("transfer/import/", views.import_upload, name="import_upload"),
    path("transfer/import/preview/", views.import_preview, name="import_preview"),
    path("transfer/import/<int:pk>/", views.import_job, name="import_job"),
    path("transfer/export/", views.export, name="export"),
]
