from django.apps import AppConfig


class SignupConfig(AppConfig):
    name = "akkoord.signup"
