"""Parsing and rendering a chunk ahead of the database writes (PrerenderedChunks): same results as
rendering on demand, errors reach the importer, and no thread outlives the import."""
import json
import threading

import pytest

from prefkit.formats import ImportFormatError, ImportReader, RecordProblem
from tests.conftest import comparisons_jsonl
from webapp.comparisons import imports
from webapp.comparisons.imports import PrerenderedChunks, import_file
from webapp.comparisons.models import Comparison, Response


def _threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "import-prerender"]


def _reader(data: bytes) -> ImportReader:
    return ImportReader(data, file_name="pairs.jsonl")


def test_chunks_hold_every_item_in_order_with_the_html_of_their_texts():
    bad = b'{"prompt": "x"}\n'  # no responses: a problem between comparisons
    data = comparisons_jsonl(3) + bad + comparisons_jsonl(2, start=3)
    with PrerenderedChunks(_reader(data), chunk_size=2) as chunks:
        got = list(chunks)
    lines = [[item.line for item in items] for items, _ in got]
    assert lines == [[1, 2], [3, 4, 5], [6]]
    assert isinstance(got[1][0][1], RecordProblem)
    for items, rendered in got:
        for item in items:
            if not isinstance(item, RecordProblem):
                text = item.response_a.text
                assert rendered[text] == imports._render([text])[0]
    assert "<strong>0</strong>" in got[0][1]["It is **0**."]
    assert _threads() == []


def test_nothing_is_rendered_ahead_once_the_importer_says_it_would_be_waste():
    with PrerenderedChunks(_reader(comparisons_jsonl(6)), chunk_size=1) as chunks:
        rendered = []
        for _, ahead in chunks:
            rendered.append(bool(ahead))
            chunks.speculate = False
    # the thread works one chunk ahead of the importer (one more may be queued): the switch shows soon after
    assert rendered[0] and not any(rendered[3:])


def test_a_whole_file_error_raised_in_the_thread_reaches_the_importer():
    with pytest.raises(ImportFormatError, match="no records"):
        with PrerenderedChunks(_reader(b"\n\n"), chunk_size=10) as chunks:
            list(chunks)
    assert _threads() == []


def test_an_importer_that_stops_early_stops_the_thread():
    with pytest.raises(RuntimeError, match="stop here"):
        with PrerenderedChunks(_reader(comparisons_jsonl(50)), chunk_size=1) as chunks:
            for _ in chunks:
                raise RuntimeError("stop here")
    assert _threads() == []


def test_a_re_import_and_a_bigger_file_give_the_same_rows_as_rendering_on_demand(world, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK", 3)  # several chunks, so rendering ahead and on demand both happen
    first = import_file(project=world.project, data=comparisons_jsonl(7, start=100), file_name="a.jsonl",
                        actor=world.carol)
    again = import_file(project=world.project, data=comparisons_jsonl(11, start=100), file_name="b.jsonl",
                        actor=world.carol)
    assert (first.created_count, again.created_count, again.existing_count) == (7, 4, 7)
    for response in Response.objects.filter(prompt__comparisons__batch__in=[first, again]).distinct():
        assert response.html == imports._render([response.text])[0], response.text
    assert Comparison.objects.filter(batch=again).count() == 4
    assert _threads() == []


def test_an_all_or_nothing_import_with_a_bad_line_late_in_the_file_writes_nothing(world, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK", 2)
    before = Comparison.objects.count()
    lines = comparisons_jsonl(5, start=200).decode().splitlines()
    lines.insert(4, json.dumps({"prompt": "q", "response_a": {"text": "a"}}))
    with pytest.raises(ImportFormatError, match="line 5"):
        import_file(project=world.project, data=("\n".join(lines) + "\n").encode(), file_name="bad.jsonl",
                    actor=world.carol)
    assert Comparison.objects.count() == before
    assert _threads() == []
