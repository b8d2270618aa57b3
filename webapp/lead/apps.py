from django.apps import AppConfig


class LeadConfig(AppConfig):
    """Pages for data leads and admins: project dashboard, imports, re-queue, quiz, guideline
    editor and history, audit log. They read from several domains, so they sit above all of them."""

    name = "webapp.lead"
    label = "lead"
