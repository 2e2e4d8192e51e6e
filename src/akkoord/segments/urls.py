from django.urls import path

from akkoord.segments import views

app_name = "segments"
urlpatterns = [
    path("segments/", views.segment_list, name="list"),
    path("segments/new/", views.segment_edit, name="create"),
    path("segments/<int:pk>/", views.segment_edit, name="edit"),
    path("segments/count/", views.segment_count, name="count"),
    path("segments/categories/", views.category_list, name="categories"),
    path("segments/categories/new/", views.category_edit, name="category_create"),
    path("segments/categories/<int:pk>/", views.category_edit, name="category_edit"),
    path("contacts/<int:pk>/tags/", views.contact_tags, name="contact_tags"),
]
