from django.apps import AppConfig


class LabelStudioConfig(AppConfig):
    name = "webapp.labelstudio"
    label = "labelstudio"
    verbose_name = "Label Studio interop"
