from django.urls import path

from akkoord.transfer import views

app_name = "transfer"
urlpatterns = [
    path("transfer/", views.index, name="index"),
    path("transfer/import/", views.import_upload, name="import_upload"),
    path("transfer/import/preview/", views.import_preview, name="import_preview"),
    path("transfer/export/", views.export, name="export"),
]
