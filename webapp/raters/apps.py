from django.apps import AppConfig


class RatersConfig(AppConfig):
    name = "webapp.raters"
    label = "raters"
