app_name = "accountability"
urlpatterns: list = []
