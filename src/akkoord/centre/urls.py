from django.urls import path

from akkoord.centre import staff_views, views

app_name = "centre"
urlpatterns = [
    # Public: the person, by signed link.
    path("centre/", views.request_link, name="request_link"),
    path("centre/schema.json", views.schema, name="schema"),
    path("centre/erased/", views.erased, name="erased"),
    path("centre/<str:token>/", views.home, name="home"),
    path("centre/<str:token>/choose/", views.choose, name="choose"),
    path("centre/<str:token>/correct/", views.correct, name="correct"),
    path("centre/<str:token>/download.<str:file_format>", views.download, name="download"),
    path("centre/<str:token>/erase/", views.erase, name="erase"),
    # Staff: erasure requests awaiting review.
    path("requests/", staff_views.request_list, name="requests"),
    path("requests/settings/", staff_views.centre_settings, name="settings"),
    path("requests/<int:pk>/", staff_views.request_detail, name="request"),
    path("requests/<int:pk>/action/", staff_views.request_action, name="request_action"),
]
