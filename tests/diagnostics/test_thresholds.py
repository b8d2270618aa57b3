"""Rater thresholds saved per project: one audited write, checked field by field, and used by the
page, the job, the CLI and the one-click "exclude the flagged raters" link. The consistency
re-serve settings are changed from the same page."""
import io
import json
import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from tests.diagnostics.test_page import compute, simulated  # noqa: F401 (a fixture)
from webapp.audit.models import AuditEvent
from webapp.core.errors import Forbidden, ValidationFailed
from webapp.diagnostics import services
from webapp.diagnostics.models import RaterThresholds
from webapp.diagnostics.thresholds import saved_thresholds
from webapp.projects.models import Project
from webapp.runs.models import Job


def test_it_saves_thresholds_with_an_audit_row_of_what_changed(simulated):
    diff = services.thresholds_save(project=simulated.project, actor=simulated.carol,
                                    values={"max_position_bias": "0.8", "min_judgments": "20", "min_gold_accuracy": "0.7"})
    assert diff == {"max_position_bias": {"from": 0.65, "to": 0.8}, "min_judgments": {"from": 10, "to": 20}}
    saved = saved_thresholds(simulated.project)
    assert (saved.max_position_bias, saved.min_judgments, saved.min_loo_agreement) == (0.8, 20, 0.5)
    event = AuditEvent.objects.get(action="diagnostics.thresholds_changed")
    assert (event.actor, event.project_id, event.payload) == (simulated.carol, simulated.project.pk, diff)
    # The same values again change nothing and write nothing.
    assert services.thresholds_save(project=simulated.project, actor=simulated.carol,
                                    values={"max_position_bias": 0.8}) == {}
    assert AuditEvent.objects.filter(action="diagnostics.thresholds_changed").count() == 1


@pytest.mark.parametrize("values, field", [
    ({"min_loo_agreement": "1.5"}, "min_loo_agreement"),
    ({"max_position_bias": "0.3"}, "max_position_bias"),
    ({"too_fast_ms": "-1"}, "too_fast_ms"),
    ({"min_judgments": "2.5"}, "min_judgments"),
    ({"min_self_agreement": "nan"}, "min_self_agreement"),
    ({"min_gold": "0.5"}, "min_gold"),
])
def test_a_bad_threshold_is_refused_naming_it_and_nothing_is_saved(simulated, values, field):
    with pytest.raises(ValidationFailed) as refused:
        services.thresholds_save(project=simulated.project, actor=simulated.carol, values=values)
    assert refused.value.field == field and field in str(refused.value)
    assert not RaterThresholds.objects.exists() and not AuditEvent.objects.filter(
        action="diagnostics.thresholds_changed").exists()


def test_only_leads_save_thresholds(simulated):
    with pytest.raises(Forbidden):
        services.thresholds_save(project=simulated.project, actor=simulated.alice, values={"min_judgments": 5})


def test_the_job_the_cli_and_the_exclude_link_use_the_saved_thresholds(simulated, client):
    client.force_login(simulated.carol)
    job = compute(client)                                      # default thresholds: the left reflex is flagged
    assert all("position_bias" in r["flags"] for r in job.result["report"]["raters"])
    page = client.get(reverse("diagnostics-page", args=["demo"])).content.decode()
    assert 'id="exclude-flagged"' in page and 'id="thresholds-changed"' not in page
    # The lead saves thresholds that flag nobody (and asks for more judgments before flagging).
    response = client.post(reverse("diagnostics-thresholds", args=["demo"]), {
        "max_position_bias": "1", "min_loo_agreement": "0", "min_gold_accuracy": "0", "max_too_fast_share": "1",
        "min_self_agreement": "0", "min_judgments": "12"})
    assert response.status_code == 302
    page = client.get(reverse("diagnostics-page", args=["demo"])).content.decode()
    assert 'id="exclude-flagged"' not in page                 # the report's flags follow the saved thresholds
    assert 'id="thresholds-changed"' in page and 'name="max_position_bias" size="5" value="1.0"' in page
    later = compute(client)
    assert later.params["thresholds"]["max_position_bias"] == 1.0
    assert later.result["report"]["thresholds"]["min_judgments"] == 12
    assert not any(r["flags"] for r in later.result["report"]["raters"])
    out = io.StringIO()
    call_command("diagnostics", "--project", "demo", "--json", "--resamples", "50", stdout=out)
    assert json.loads(out.getvalue())["thresholds"] == later.result["report"]["thresholds"]


def test_the_thresholds_form_refuses_a_bad_value_naming_it(simulated, client):
    client.force_login(simulated.carol)
    response = client.post(reverse("diagnostics-thresholds", args=["demo"]), {"max_too_fast_share": "lots"})
    assert response.status_code == 400
    assert re.search(r'role="alert">max_too_fast_share must be a share between 0 and 1', response.content.decode())
    assert not RaterThresholds.objects.exists()
    client.force_login(simulated.alice)
    assert client.post(reverse("diagnostics-thresholds", args=["demo"]), {"min_judgments": "3"}).status_code == 403


def test_the_consistency_form_changes_the_project_setting_or_says_why_not(simulated, client):
    client.force_login(simulated.carol)
    url = reverse("diagnostics-consistency", args=["demo"])
    assert client.post(url, {"consistency_fraction": "0.1", "consistency_min_gap": "30"}).status_code == 302
    project = Project.objects.get(slug="demo")
    assert (project.consistency_fraction, project.consistency_min_gap) == (0.1, 30)
    refused = client.post(url, {"consistency_fraction": "0.5", "consistency_min_gap": "30"})
    assert refused.status_code == 400 and "re-serve at most 0.2 of the tasks" in refused.content.decode()
    assert client.post(url, {"consistency_fraction": "often", "consistency_min_gap": "30"}).status_code == 400
    assert Project.objects.get(slug="demo").consistency_fraction == 0.1
    assert not Job.objects.filter(kind="diagnostics").exists()
