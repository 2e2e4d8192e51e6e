from django.urls import path

from akkoord.notices import views

app_name = "notices"
urlpatterns = [
    path("notices/contacts/<int:contact_id>/send/", views.send, name="send"),
    path("notices/templates/", views.template_list, name="templates"),
    path("notices/templates/new/", views.template_edit, name="template_new"),
    path("notices/templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("notices/settings/", views.settings_save, name="settings"),
]
