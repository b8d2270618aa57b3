"""Body limits per endpoint, uploads streamed to disk, readable 405/413 pages in the browser."""
import tracemalloc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.test.client import ClientHandler

from tests.conftest import PASSWORD, comparisons_jsonl
from webapp.comparisons import imports
from webapp.comparisons.models import ImportBatch

pytestmark = pytest.mark.django_db


def logged_in(name: str) -> Client:
    browser = Client()
    assert browser.login(username=name, password=PASSWORD)
    return browser


def test_it_redirects_a_get_on_the_import_form_to_the_project_page(world):
    response = logged_in("carol").get("/lead/demo/import/")
    assert response.status_code == 302 and response["Location"] == "/lead/demo/"


def test_it_shows_a_page_for_a_get_on_any_other_post_only_address(world):
    response = logged_in("carol").get("/lead/demo/guidelines/preview")
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert b"only takes POST" in response.content and b"<h1>" in response.content


def test_it_answers_an_oversized_browser_upload_with_a_readable_413_page(world, settings):
    settings.WB_MAX_IMPORT_BYTES = 10_000
    batches = ImportBatch.objects.count()
    data = comparisons_jsonl(500)
    assert len(data) > 100_000
    response = logged_in("carol").post("/lead/demo/import/", {"file": SimpleUploadedFile("big.jsonl", data)})
    assert response.status_code == 413
    text = response.content.decode()
    assert "That was too large" in text and "WB_MAX_IMPORT_BYTES" in text and "Nothing was saved" in text
    assert ImportBatch.objects.count() == batches


def test_it_refuses_a_file_just_over_the_limit_inside_the_multipart_allowance(world, settings):
    # The body may carry multipart framing on top of the limit, but the file itself may not.
    data = comparisons_jsonl(3)
    settings.WB_MAX_IMPORT_BYTES = len(data) - 1
    batches = ImportBatch.objects.count()
    response = logged_in("carol").post("/lead/demo/import/", {"file": SimpleUploadedFile("a.jsonl", data)})
    assert response.status_code == 413 and b"That was too large" in response.content
    assert ImportBatch.objects.count() == batches


def test_it_still_imports_through_the_page_with_csrf(world):
    browser = Client(enforce_csrf_checks=True)
    browser.login(username="carol", password=PASSWORD)
    refused = browser.post("/lead/demo/import/", {"file": SimpleUploadedFile("a.jsonl", comparisons_jsonl(2, start=70))})
    assert refused.status_code == 403
    browser.get("/lead/demo/")
    token = browser.cookies["csrftoken"].value
    accepted = browser.post("/lead/demo/import/", {"file": SimpleUploadedFile("a.jsonl", comparisons_jsonl(2, start=70)),
                                                   "csrfmiddlewaretoken": token})
    assert accepted.status_code == 302
    batch = ImportBatch.objects.get(file_name="a.jsonl")
    assert bytes(batch.upload) == comparisons_jsonl(2, start=70)


UPLOAD_PAGES = ["/lead/demo/import/", "/lead/demo/diagnostics/probes/", "/lead/demo/labelstudio/upload/"]


@pytest.mark.parametrize("url", UPLOAD_PAGES)
def test_every_upload_page_takes_the_file_and_then_checks_csrf(world, url):
    browser = Client(enforce_csrf_checks=True)
    browser.login(username="carol", password=PASSWORD)
    refused = browser.post(url, {"file": SimpleUploadedFile("a.jsonl", comparisons_jsonl(1))})
    assert refused.status_code == 403 and b"CSRF verification failed" in refused.content
    browser.get("/lead/demo/")
    accepted = browser.post(url, {"file": SimpleUploadedFile("a.jsonl", comparisons_jsonl(1)),
                                  "csrfmiddlewaretoken": browser.cookies["csrftoken"].value})
    assert accepted.status_code not in (403, 413)  # what the page makes of the file its own tests check


@pytest.mark.parametrize("url", UPLOAD_PAGES)
def test_every_upload_page_answers_a_file_over_the_import_limit_with_the_413_page(world, settings, url):
    settings.WB_MAX_IMPORT_BYTES = 10_000
    response = logged_in("carol").post(url, {"file": SimpleUploadedFile("big.jsonl", comparisons_jsonl(500))})
    assert response.status_code == 413 and b"the limit is 10,000 bytes (WB_MAX_IMPORT_BYTES)" in response.content


def test_it_refuses_a_file_posted_to_a_page_that_takes_none(world):
    response = logged_in("carol").post("/lead/demo/requeue/", {"comparison": "1",
                                                               "file": SimpleUploadedFile("x.bin", b"x" * 1000)})
    assert response.status_code == 413 and b"takes no file uploads" in response.content


def test_it_answers_a_form_over_the_form_limit_with_a_413_page(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = logged_in("carol").post("/lead/demo/guidelines/new/", {"body_md": "x" * 5000, "change_note": "n"})
    assert response.status_code == 413 and b"That was too large" in response.content


@pytest.mark.parametrize("multipart", [False, True], ids=["raw body", "multipart"])
def test_it_streams_an_api_upload_to_disk_instead_of_holding_it_in_memory(world, tokens, multipart, monkeypatch):
    data = comparisons_jsonl(40_000)  # ~10 MB
    auth = {"HTTP_AUTHORIZATION": f"Bearer {tokens['carol']}"}
    factory = RequestFactory()
    if multipart:
        request = factory.post("/api/v1/projects/demo/imports", {"file": SimpleUploadedFile("m.jsonl", data)}, **auth)
    else:
        request = factory.post("/api/v1/projects/demo/imports?file_name=r.jsonl", data=data,
                               content_type="application/octet-stream", **auth)
    del data  # the request now holds the only copy (built before tracing starts)
    received = {}
    store = imports.import_request

    def measured_store(**kwargs):
        # The server's memory from the first byte read up to handing the file to the service
        # (what the database driver then needs is the storage's business, not the receiving's).
        received["peak"] = tracemalloc.get_traced_memory()[1]
        received["size"] = len(kwargs["data"])
        return store(**kwargs)

    monkeypatch.setattr(imports, "import_request", measured_store)
    tracemalloc.start()
    try:
        response = ClientHandler(enforce_csrf_checks=False)(request.environ)
    finally:
        tracemalloc.stop()
    assert response.status_code == 202, response.content
    assert received["size"] > 9_000_000
    assert received["peak"] < 2_000_000, f"{received['peak']:,} bytes held while receiving {received['size']:,}"
