"""Every content hash and the audit chain use the one canonical-JSON hash, as the README writes it."""
import hashlib
import importlib
import json

import pytest
from django.apps import apps

from webapp.audit.models import AuditEvent
from webapp.comparisons.models import Comparison, Prompt, Response

pytestmark = pytest.mark.django_db


def readme_hash(value) -> str:
    """The README's words: SHA-256 of canonical JSON (sorted keys, no spaces, UTF-8)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                          .encode("utf-8")).hexdigest()


def test_it_keys_prompts_responses_and_comparisons_by_the_canonical_hash(world):
    comparison = Comparison.objects.select_related("prompt", "response_a", "response_b").first()
    a, b = comparison.response_a, comparison.response_b

    assert comparison.prompt.content_hash == readme_hash({"messages": comparison.prompt.messages})
    assert a.content_hash == readme_hash({"text": a.text, "model": a.model_name})
    assert comparison.content_hash == readme_hash({
        "prompt": comparison.prompt.messages,
        "response_a": {"text": a.text, "model": a.model_name},
        "response_b": {"text": b.text, "model": b.model_name},
    })


def test_it_chains_audit_events_by_the_formula_in_the_readme(world):
    events = list(AuditEvent.objects.order_by("seq"))
    assert len(events) > 5
    prev = "0" * 64
    for event in events:
        body = {key: value for key, value in event.content().items() if key not in ("seq", "prev_hash")}
        digest = readme_hash(body)
        assert event.prev_hash == prev
        assert event.hash == hashlib.sha256(f"{event.seq}:{prev}:{digest}".encode()).hexdigest()
        prev = event.hash


def test_it_rekeys_prompts_and_responses_hashed_the_old_way(world):
    prompt = Prompt.objects.first()
    response = Response.objects.filter(prompt=prompt).first()
    old_style = lambda value: hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()  # noqa: E731
    Prompt.objects.filter(pk=prompt.pk).update(content_hash=old_style({"messages": prompt.messages}))
    Response.objects.filter(pk=response.pk).update(
        content_hash=old_style({"text": response.text, "model": response.model_name}))

    migration = importlib.import_module("webapp.comparisons.migrations.0004_canonical_content_hashes")
    migration.forwards(apps, None)

    assert Prompt.objects.get(pk=prompt.pk).content_hash == readme_hash({"messages": prompt.messages})
    assert Response.objects.get(pk=response.pk).content_hash == readme_hash(
        {"text": response.text, "model": response.model_name})
