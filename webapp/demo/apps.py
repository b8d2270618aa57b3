from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`manage.py seed_demo`: it uses every domain's services, so it sits at the top."""

    name = "webapp.demo"
    label = "demo"
