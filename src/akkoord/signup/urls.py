app_name = "signup"
urlpatterns: list = []
