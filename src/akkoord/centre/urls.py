app_name = "centre"
urlpatterns: list = []
