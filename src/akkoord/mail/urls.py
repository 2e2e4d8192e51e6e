from django.urls import path

from akkoord.mail import views

app_name = "mail"
urlpatterns = [
    path("", views.catcher, name="catcher"),
    path("<int:pk>/", views.message_detail, name="message"),
]
