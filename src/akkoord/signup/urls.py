from django.urls import path

from akkoord.signup import public_views, views

app_name = "signup"
urlpatterns = [
    path("forms/", views.form_list, name="list"),
    path("forms/new/", views.form_edit, name="new"),
    path("forms/<int:pk>/", views.form_detail, name="detail"),
    path("forms/<int:pk>/edit/", views.form_edit, name="edit"),
    path("forms/<int:pk>/publish/", views.form_publish, name="publish"),
    path("forms/<int:pk>/unpublish/", views.form_unpublish, name="unpublish"),
    path("f/confirm/<str:token>/", public_views.confirm_page, name="confirm"),
    path("f/<str:key>/", public_views.form_page, name="form"),
    path("f/<str:key>/embed/", public_views.embed_fragment, name="embed"),
]
