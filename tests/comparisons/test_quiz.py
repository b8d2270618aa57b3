import pytest
from django.test import Client

from tests.conftest import PASSWORD, acknowledge
from webapp.audit.models import AuditEvent
from webapp.comparisons import services
from webapp.comparisons.models import Comparison
from webapp.core.errors import Conflict, QuizRequired, ValidationFailed
from webapp.guidelines.models import QuizAttempt
from webapp.comparisons.quiz import quiz_attempt_submit, quiz_questions, quiz_set

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiz(world):
    ids = list(Comparison.objects.order_by("pk").values_list("pk", flat=True)[:2])  # gold "a" in the test data
    return quiz_set(version=world.guideline, comparison_ids=ids, threshold=1.0, actor=world.carol)


def right_answers(quiz, user):
    return {q.comparison.pk: "left" if q.left_is_a else "right" for q in quiz_questions(quiz=quiz, user=user)}


def wrong_answers(quiz, user):
    return {q.comparison.pk: "right" if q.left_is_a else "left" for q in quiz_questions(quiz=quiz, user=user)}


def test_it_holds_back_tasks_until_the_quiz_is_passed(world, quiz):
    acknowledge(world, "alice")
    with pytest.raises(QuizRequired):
        services.assignment_next(project=world.project, rater=world.alice)
    failed = quiz_attempt_submit(quiz=quiz, user=world.alice, answers=wrong_answers(quiz, world.alice))
    assert (failed.passed, failed.score) == (False, 0.0)
    with pytest.raises(QuizRequired):
        services.assignment_next(project=world.project, rater=world.alice)
    passed = quiz_attempt_submit(quiz=quiz, user=world.alice, answers=right_answers(quiz, world.alice))
    assert passed.passed and passed.score == 1.0
    assert services.assignment_next(project=world.project, rater=world.alice) is not None
    assert QuizAttempt.objects.filter(user=world.alice).count() == 2
    assert AuditEvent.objects.filter(action="quiz.attempted").count() == 2


def test_it_requires_every_question_answered(world, quiz):
    with pytest.raises(ValidationFailed, match="answer every question"):
        quiz_attempt_submit(quiz=quiz, user=world.alice, answers={})


def test_it_accepts_only_comparisons_of_the_project_with_a_known_answer(world):
    from webapp.comparisons.imports import import_file

    no_gold = b'{"prompt": "p", "response_a": "x", "response_b": "y"}\n'
    import_file(project=world.project, data=no_gold, file_name="nogold.jsonl", actor=world.carol)
    with pytest.raises(ValidationFailed, match="no known answer"):
        quiz_set(version=world.guideline, comparison_ids=[Comparison.objects.get(gold="").pk], threshold=0.8,
                 actor=world.carol)
    with pytest.raises(ValidationFailed):
        quiz_set(version=world.guideline, comparison_ids=[], threshold=0.8, actor=world.carol)
    with pytest.raises(ValidationFailed):
        quiz_set(version=world.guideline, comparison_ids=[10**9], threshold=0.8, actor=world.carol)


def test_it_fixes_a_quiz_once_set(world, quiz):
    with pytest.raises(Conflict):
        quiz_set(version=world.guideline, comparison_ids=[quiz.items.first().comparison_id], threshold=0.5,
                 actor=world.carol)


def test_it_walks_a_rater_through_the_quiz_in_the_browser_views(world, quiz):
    browser = Client()
    browser.login(username="alice", password=PASSWORD)
    browser.post("/p/demo/guideline/", {"version": "1"})
    assert browser.get("/p/demo/").url == "/p/demo/quiz/"
    wrong = {f"answer_{k}": v for k, v in wrong_answers(quiz, world.alice).items()}
    page = browser.post("/p/demo/quiz/", wrong)
    assert page.status_code == 200 and "0% right" in page.content.decode()
    right = {f"answer_{k}": v for k, v in right_answers(quiz, world.alice).items()}
    assert browser.post("/p/demo/quiz/", right).url == "/p/demo/"
    assert browser.get("/p/demo/").status_code == 200


def test_it_lets_a_lead_set_the_quiz_and_see_attempts_with_pseudonyms(world):
    lead = Client()
    lead.login(username="carol", password=PASSWORD)
    ids = list(Comparison.objects.order_by("pk").values_list("pk", flat=True)[:3])
    lead.post("/lead/demo/quiz/", {"comparisons": ", ".join(map(str, ids)), "threshold": "67"})
    quiz = world.guideline.quiz
    assert quiz.items.count() == 3 and abs(quiz.threshold - 0.67) < 1e-9
    quiz_attempt_submit(quiz=quiz, user=world.alice, answers=right_answers(quiz, world.alice))
    page = lead.get("/lead/demo/quiz/").content.decode()
    assert world.alice.profile.pseudonym in page and "alice" not in page
