import hashlib

from django.conf import settings
from django.db import models


class Role(models.TextChoices):
    RATER = "rater", "Rater"
    LEAD = "lead", "Data lead"
    ADMIN = "admin", "Admin"


def new_pseudonym() -> str:
    # Named by migration 0001 as the field's former default; pseudonyms now come from the one rule.
    raise RuntimeError("pseudonyms come from webapp.accounts.services.pseudonym_for (prefkit.pseudonyms)")


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.RATER)
    # Stable id shown to leads and written to exports instead of the real identity; set once, by
    # profile_attach, from the one pseudonym rule (earlier profiles keep the random ones they got).
    pseudonym = models.CharField(max_length=16, unique=True)

    def __str__(self):
        return f"{self.user} ({self.role})"

    @property
    def is_lead_or_admin(self) -> bool:
        return self.role in (Role.LEAD, Role.ADMIN)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    # Only the hash is stored: a leaked database does not leak usable tokens.
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.prefix}… ({self.user})"


class LoginFailure(models.Model):
    username = models.CharField(max_length=150, db_index=True)
    ip = models.CharField(max_length=64, db_index=True)
    at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.username} from {self.ip} at {self.at:%Y-%m-%d %H:%M:%S}"
