from django.urls import path

from akkoord.accounts import staff_views, views

app_name = "accounts"
urlpatterns = [
    path("sign-in/", views.sign_in, name="login"),
    path("sign-in/code/", views.verify, name="verify"),
    path("sign-in/set-up/", views.enrol, name="enrol"),
    path("sign-out/", views.sign_out, name="logout"),
    path("", views.account, name="account"),
    path("recovery-codes/", views.recovery_codes, name="recovery_codes"),
    path("staff/", staff_views.staff_list, name="staff"),
    path("staff/new/", staff_views.staff_create, name="staff_create"),
    path("staff/<int:pk>/", staff_views.staff_detail, name="staff_detail"),
    path("staff/<int:pk>/role/", staff_views.staff_role, name="staff_role"),
    path("staff/<int:pk>/active/", staff_views.staff_active, name="staff_active"),
    path("staff/<int:pk>/reset-2fa/", staff_views.staff_reset_2fa, name="staff_reset_2fa"),
    path(
        "staff/<int:pk>/reset-password/",
        staff_views.staff_reset_password,
        name="staff_reset_password",
    ),
    path("audit/", staff_views.audit_log, name="audit"),
]
