"""Abstract bases shared by the domain apps."""
from django.db import models


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError(self.model.change_refused)

    def delete(self):
        raise TypeError(self.model.change_refused)


class AppendOnlyModel(models.Model):
    """Rows are inserted once and never changed or deleted through the ORM (published guideline
    versions, judgments, quiz attempts, audit events). Database triggers back this up where a
    migration adds them; `change_refused` is the message callers see."""

    change_refused = "these rows are append-only"

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError(self.change_refused)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError(self.change_refused)
