from django.urls import path

app_name = "front"
urlpatterns: list = []
