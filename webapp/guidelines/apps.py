from django.apps import AppConfig


class GuidelinesConfig(AppConfig):
    name = "webapp.guidelines"
    label = "guidelines"
