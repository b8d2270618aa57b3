"""The official HH-RLHF `harmless-base/test.jsonl.gz`, byte for byte as Anthropic publishes it
(fixtures/LICENSES.md), imported as a new lead would: all-or-nothing names its five invalid lines;
--skip-invalid imports the other 2,307 and keeps the rejects report on the batch, its page and the API."""
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from tests.conftest import PASSWORD
from webapp.audit.models import AuditEvent
from webapp.comparisons.models import Comparison, ImportBatch

pytestmark = pytest.mark.django_db
OFFICIAL = Path(__file__).resolve().parents[2] / "fixtures" / "hh_rlhf_harmless_base_test.jsonl.gz"
HISTORIES_DIFFER = "'chosen' and 'rejected' must share every turn but the final Assistant turn; their histories differ"
INVALID_LINES = [1255, 1689, 1951, 1953, 2037]  # chosen and rejected have different turn counts


def test_all_or_nothing_lists_the_five_lines_that_cannot_be_a_comparison(world):
    before = Comparison.objects.count()
    with pytest.raises(CommandError) as caught:
        call_command("import_comparisons", str(OFFICIAL), "--project", "demo")
    message = str(caught.value)
    assert message.startswith(f"{OFFICIAL.name}: 5 invalid lines:")
    for line in INVALID_LINES:
        assert f"line {line}: field 'rejected': {HISTORIES_DIFFER}" in message
    assert "nothing was imported; --skip-invalid imports the valid lines" in message
    assert Comparison.objects.count() == before


def test_skip_invalid_imports_the_rest_and_the_lead_reads_the_rejects(world, tokens):
    out = io.StringIO()
    call_command("import_comparisons", str(OFFICIAL), "--project", "demo", "--skip-invalid", stdout=out)
    assert "2312 read, 2307 new comparisons, 0 already present, 0 repeated in the file, 5 rejected, " \
           "4 with an empty turn" in out.getvalue()
    batch = ImportBatch.objects.get(file_name=OFFICIAL.name)
    assert (batch.status, batch.created_count, batch.rejected_count, batch.empty_turn_count) == ("done", 2307, 5, 4)
    assert Comparison.objects.filter(batch=batch).count() == 2307
    assert [(r["line"], r["field"]) for r in batch.rejects] == [(line, "rejected") for line in INVALID_LINES]
    assert all(r["reason"].startswith(HISTORIES_DIFFER) for r in batch.rejects)

    lead = Client()
    lead.login(username="carol", password=PASSWORD)
    page = lead.get(f"/provenance/imports/{batch.pk}/").content.decode()
    assert "Rejected lines" in page and all(f">{line}<" in page for line in INVALID_LINES)
    api = Client().get(f"/api/v1/imports/{batch.pk}", HTTP_AUTHORIZATION=f"Bearer {tokens['carol']}").json()
    assert (api["read"], api["created"], api["rejected"], api["empty_turns"]) == (2312, 2307, 5, 4)
    assert [r["line"] for r in api["rejects"]] == INVALID_LINES
    audit = AuditEvent.objects.get(action="comparisons.imported", object_id=str(batch.pk))
    assert (audit.payload["created"], audit.payload["rejected"]) == (2307, 5)

    call_command("import_comparisons", str(OFFICIAL), "--project", "demo", "--skip-invalid", stdout=io.StringIO())
    again = ImportBatch.objects.filter(file_name=OFFICIAL.name).latest("pk")
    assert (again.created_count, again.existing_count, again.rejected_count) == (0, 2307, 5)
