from django.urls import path

from akkoord.deliverability import tracking_views, views, webhooks

app_name = "deliverability"
urlpatterns = [
    path("deliverability/", views.index, name="index"),
    path("deliverability/campaigns/<int:pk>/", views.campaign, name="campaign"),
    path("deliverability/reports/", views.report_list, name="reports"),
    path("deliverability/reports/<int:pk>/", views.report_detail, name="report"),
    path("deliverability/reports/<int:pk>/undo", views.report_undo, name="undo"),
    # Public: called by sending services, each verifying its own signature or secret.
    path("hooks/bounces/<str:provider>", webhooks.receive, name="webhook"),
    # Public, in measured mail only (tracking.py builds these paths too).
    path("t/o/<str:token>", tracking_views.pixel, name="open"),
    path("t/c/<str:token>", tracking_views.click, name="click"),
]
