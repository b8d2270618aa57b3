"""Rater-facing pages. The task page itself talks to the JSON API (webapp/comparisons/api.py)."""
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from webapp.accounts.services import login_failure_record, login_throttled
from webapp.comparisons.models import Assignment, Judgment
from webapp.core.errors import DomainError
from webapp.core.middleware import client_ip
from prefkit.rendering import pygments_css, render_markdown
from webapp.core.views import domain_errors_as_pages
from webapp.guidelines import services as guideline_services
from webapp.guidelines.models import Quiz
from webapp.comparisons.quiz import quiz_attempt_submit, quiz_questions
from webapp.guidelines.selectors import current_version_with_ack
from webapp.projects.selectors import project_for_member, projects_visible_to, role_of


@require_http_methods(["GET", "POST"])
def login_view(request):
    if request.method == "GET":
        return render(request, "raters/login.html", {"next": request.GET.get("next", "")})
    username, ip = request.POST.get("username", "").strip(), client_ip(request)
    if login_throttled(username=username, ip=ip):
        return render(request, "raters/login.html", {"error": "Too many failed log-ins. Wait 15 minutes and try again.",
                                                     "username": username}, status=429)
    user = authenticate(request, username=username, password=request.POST.get("password", ""))
    if user is None:
        login_failure_record(username=username, ip=ip)
        return render(request, "raters/login.html", {"error": "Wrong username or password.", "username": username}, status=401)
    login(request, user)
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/") and not target.startswith("//") else "home")


def logout_view(request):
    if request.method != "POST":  # a GET must not log out (no CSRF check); show where to go
        return redirect("home")
    logout(request)
    return redirect("login")


@login_required
def home(request):
    projects = list(projects_visible_to(request.user).order_by("name"))
    done = _done_counts(request.user)
    return render(request, "raters/home.html", {
        "projects": [(p, done.get(p.pk, 0)) for p in projects], "role": role_of(request.user),
    })


def _done_counts(user) -> dict[int, int]:
    rows = (Assignment.objects.filter(rater=user, status=Assignment.Status.SUBMITTED)
            .values("project_id").annotate(n=Count("id")))
    return {row["project_id"]: row["n"] for row in rows}


@login_required
@domain_errors_as_pages
def guideline_page(request, slug):
    project = project_for_member(slug=slug, user=request.user)
    version = current_version_with_ack(project_id=project.pk, user=request.user)
    if request.method == "POST":
        try:
            guideline_services.guideline_acknowledge(user=request.user, project=project,
                                                     number=int(request.POST.get("version", "0")))
        except (DomainError, ValueError) as error:
            messages.error(request, str(error))
            return redirect("guideline", slug=slug)
        return redirect("task", slug=slug)  # which sends on to the quiz when there is one
    return render(request, "raters/guideline.html", {
        "project": project, "version": version,
        "body_html": render_markdown(version.body_md) if version else "",
    })


@login_required
@domain_errors_as_pages
def task_page(request, slug):
    project = project_for_member(slug=slug, user=request.user)
    version = current_version_with_ack(project_id=project.pk, user=request.user)
    if version is None or not version.acknowledged:
        return redirect("guideline", slug=slug)
    if version.quiz_pending:
        return redirect("quiz", slug=slug)
    done = Assignment.objects.filter(rater=request.user, project=project, status=Assignment.Status.SUBMITTED).count()
    return render(request, "raters/task.html", {
        "project": project, "version": version, "done": done, "pygments_css": pygments_css(),
        "scale": {"name": project.scale, **project.scale_spec.as_dict()},
    })


@login_required
@domain_errors_as_pages
def my_judgments(request, slug):
    project = project_for_member(slug=slug, user=request.user)
    judgments = (Judgment.objects.filter(rater=request.user, comparison__project=project)
                 .select_related("guideline_version").order_by("-submitted_at")[:200])
    return render(request, "raters/mine.html", {"project": project, "judgments": judgments})


@login_required
@domain_errors_as_pages
def quiz_page(request, slug):
    project = project_for_member(slug=slug, user=request.user)
    version = current_version_with_ack(project_id=project.pk, user=request.user)
    if version is None or not version.acknowledged:
        return redirect("guideline", slug=slug)
    quiz = Quiz.objects.filter(version=version).first()
    if quiz is None or not version.quiz_pending:
        return redirect("task", slug=slug)
    attempt, error = None, ""
    if request.method == "POST":
        answers = {q.comparison.pk: request.POST.get(f"answer_{q.comparison.pk}")
                   for q in quiz_questions(quiz=quiz, user=request.user)}
        try:
            attempt = quiz_attempt_submit(quiz=quiz, user=request.user, answers=answers)
        except DomainError as failure:
            error = failure.message
        else:
            if attempt.passed:
                messages.success(request, f"Quiz passed ({attempt.score:.0%}). Your tasks are ready.")
                return redirect("task", slug=slug)
    return render(request, "raters/quiz.html", {
        "project": project, "version": version, "quiz": quiz, "attempt": attempt, "error": error,
        "questions": quiz_questions(quiz=quiz, user=request.user), "pygments_css": pygments_css(),
        "attempts": quiz.attempts.filter(user=request.user).count(),
    })
