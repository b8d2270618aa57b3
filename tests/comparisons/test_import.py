import gzip
import json

import pytest
from django.core.management import CommandError, call_command

from tests.conftest import comparisons_jsonl
from webapp.comparisons.imports import import_file
from webapp.comparisons.models import Comparison, ImportBatch, Prompt, Response
from prefkit.formats import ImportFormatError

pytestmark = pytest.mark.django_db
FIXTURES = __import__("pathlib").Path(__file__).resolve().parents[2] / "fixtures"


def test_it_imports_hh_rlhf_transcripts_with_the_label_kept_as_gold(world):
    call_command("import_comparisons", str(FIXTURES / "hh_rlhf_demo.jsonl"), "--project", "demo")
    batch = ImportBatch.objects.get(file_name="hh_rlhf_demo.jsonl")
    assert (batch.status, batch.format, batch.created_count) == ("done", "hh-rlhf", 60)
    golds = set(Comparison.objects.filter(batch=batch).values_list("gold", flat=True))
    assert golds == {"a", "b"}
    comparison = Comparison.objects.filter(batch=batch).select_related("prompt").first()
    assert comparison.prompt.messages[-1]["role"] == "user"
    assert comparison.prompt.messages_html[-1]["html"].startswith("<p>")


def test_it_imports_llmfao_pairs_with_their_models(world):
    call_command("import_comparisons", str(FIXTURES / "llmfao_demo.jsonl"), "--project", "demo")
    assert Comparison.objects.filter(batch__format="llmfao").count() == 40
    assert Response.objects.exclude(model_name="").filter(model_name__startswith="llmfao:").exists()


def test_it_adds_nothing_when_the_same_file_is_imported_again(world):
    before = Comparison.objects.count()
    data = comparisons_jsonl(5)  # the same 5 pairs make_world imported
    batch = import_file(project=world.project, data=data, file_name="again.jsonl", actor=world.carol)
    assert (batch.created_count, batch.existing_count) == (0, 5)
    assert Comparison.objects.count() == before and Prompt.objects.count() == 5


def test_it_reads_gzipped_files(world, tmp_path):
    path = tmp_path / "pairs.jsonl.gz"
    path.write_bytes(gzip.compress(comparisons_jsonl(3, start=100)))
    call_command("import_comparisons", str(path), "--project", "demo")
    assert Comparison.objects.count() == 5 + 3


def test_it_imports_nothing_from_a_file_with_one_bad_line(world, tmp_path):
    good = comparisons_jsonl(3, start=200).decode().splitlines()
    bad = json.dumps({"prompt": "hi", "response_a": {"text": 7}, "response_b": "x"})
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(good[:2] + [bad] + good[2:]) + "\n")
    with pytest.raises(CommandError, match=r"bad\.jsonl: line 3: field 'response_a\.text'.*nothing was imported"):
        call_command("import_comparisons", str(path), "--project", "demo")
    assert Comparison.objects.count() == 5
    assert not ImportBatch.objects.filter(file_name="bad.jsonl").exists()


def test_it_rejects_texts_over_the_configured_size(world, settings):
    settings.WB_MAX_TEXT_CHARS = 50
    data = json.dumps({"prompt": "hi", "response_a": "x" * 51, "response_b": "y"}).encode()
    with pytest.raises(ImportFormatError, match="51 characters"):
        import_file(project=world.project, data=data, file_name="big.jsonl", actor=world.carol)


def test_it_rejects_invalid_utf8_naming_the_line(world):
    data = comparisons_jsonl(1, start=300) + b'{"prompt": "\xff\xfe", "response_a": "a", "response_b": "b"}\n'
    with pytest.raises(ImportFormatError, match="line 2"):
        import_file(project=world.project, data=data, file_name="latin1.jsonl", actor=world.carol)
    assert Comparison.objects.count() == 5


def test_it_fails_the_command_for_an_unknown_project(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_bytes(comparisons_jsonl(1))
    with pytest.raises(CommandError, match="no project"):
        call_command("import_comparisons", str(path), "--project", "nope")


def test_it_stores_every_column_as_the_orm_would(world):
    # PostgreSQL writes imported rows with COPY and SQLite with bulk_create: both must store the
    # same values, defaults included, and leave the id sequences ahead of the ids they used.
    line = {"prompt": [{"role": "user", "content": "Say *hi* — ünïcode"}],
            "response_a": {"text": "hi", "model": "m-a", "generation": {"temperature": 0.7}},
            "response_b": {"text": "1. one\n2. two", "model": "m-b"}, "gold": "b", "id": "row-1", "metadata": {"k": [1, "é"]},
            "source": "unit"}
    batch = import_file(project=world.project, data=json.dumps(line).encode() + b"\n", file_name="cols.jsonl",
                        actor=world.carol)
    comparison = Comparison.objects.select_related("prompt", "response_a", "response_b").get(batch=batch)
    assert (comparison.project_id, comparison.gold, comparison.external_id) == (world.project.pk, "b", "row-1")
    assert (comparison.taken, comparison.judged, comparison.round) == (0, 0, 1)
    assert comparison.created_at is not None and len(comparison.content_hash) == 64
    assert comparison.metadata["k"] == [1, "é"]
    prompt, a, b = comparison.prompt, comparison.response_a, comparison.response_b
    assert prompt.messages == line["prompt"] and prompt.project_id == world.project.pk
    assert prompt.messages_html == [{"role": "user", "html": "<p>Say <em>hi</em> — ünïcode</p>"}]
    assert (prompt.source, isinstance(prompt.metadata, dict)) == ("unit", True)
    assert (a.text, a.html, a.model_name, a.generation) == ("hi", "<p>hi</p>", "m-a", {"temperature": 0.7})
    assert (b.model_name, b.generation) == ("m-b", {})
    assert b.html.count("<li>") == 2
    later = Prompt.objects.create(project=world.project, messages=[], messages_html=[], content_hash="x" * 64)
    assert later.pk > prompt.pk
