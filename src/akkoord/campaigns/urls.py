from django.urls import path

from akkoord.campaigns import public_views, views

app_name = "campaigns"
urlpatterns = [
    path("campaigns/", views.campaign_list, name="list"),
    path("campaigns/new", views.campaign_new, name="new"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="detail"),
    path("campaigns/<int:pk>/edit", views.campaign_edit, name="edit"),
    path("campaigns/<int:pk>/progress", views.campaign_progress, name="progress"),
    path("campaigns/<int:pk>/start", views.campaign_start, name="start"),
    path("campaigns/<int:pk>/pause", views.campaign_pause, name="pause"),
    path("campaigns/<int:pk>/resume", views.campaign_resume, name="resume"),
    path("campaigns/<int:pk>/cancel", views.campaign_cancel, name="cancel"),
    path("campaigns/<int:pk>/recipients", views.campaign_recipients, name="recipients"),
    path("campaigns/<int:pk>/excluded", views.campaign_excluded, name="excluded"),
    path("campaigns/<int:pk>/mail", views.campaign_mail_preview, name="mail_preview"),
    path("campaigns/<int:pk>/test", views.campaign_test_send, name="test_send"),
    path("campaigns/templates/", views.template_list, name="templates"),
    path("campaigns/templates/new", views.template_edit, name="template_new"),
    path("campaigns/templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("campaigns/templates/preview", views.template_preview, name="template_preview"),
    path("campaigns/domains/", views.domain_list, name="domains"),
    path("campaigns/domains/new", views.domain_new, name="domain_new"),
    path("campaigns/domains/<int:pk>/", views.domain_detail, name="domain"),
    # Public, reached from mail. The paths are also built in rendering.py.
    path("u/<str:token>", public_views.unsubscribe, name="unsubscribe"),
    path("r/<str:token>", public_views.repermission, name="repermission"),
]
