from django.contrib import admin
from django.urls import include, path

from webapp import ninja_api, openapi
from webapp.comparisons import api as comparisons_api
from webapp.guidelines import api as guidelines_api
from webapp.raters import views as rater_views

api = [
    path("api/v1/", ninja_api.api.urls),  # routers of webapp/<app>/api.py; the rest below
    path("api/v1/openapi.json", openapi.openapi_json, name="api-openapi"),
    path("api/v1/projects", comparisons_api.project_list, name="api-projects"),
    path("api/v1/projects/<slug:slug>/guideline", guidelines_api.guideline_current, name="api-guideline"),
    path("api/v1/projects/<slug:slug>/guideline/acknowledge", guidelines_api.guideline_acknowledge, name="api-guideline-ack"),
    path("api/v1/projects/<slug:slug>/assignments/next", comparisons_api.assignment_next, name="api-next"),
    path("api/v1/assignments/<int:assignment_id>/judgment", comparisons_api.judgment_submit, name="api-judgment"),
    path("api/v1/assignments/<int:assignment_id>/skip", comparisons_api.assignment_skip, name="api-skip"),
    path("api/v1/projects/<slug:slug>/imports", comparisons_api.import_create, name="api-imports"),
    path("api/v1/projects/<slug:slug>/judgments/imports", comparisons_api.judgment_import_create,
         name="api-judgment-imports"),
    path("api/v1/imports/<int:import_id>", comparisons_api.import_detail, name="api-import-detail"),
]

pages = [
    path("", rater_views.home, name="home"),
    path("login/", rater_views.login_view, name="login"),
    path("logout/", rater_views.logout_view, name="logout"),
    path("p/<slug:slug>/", rater_views.task_page, name="task"),
    path("p/<slug:slug>/guideline/", rater_views.guideline_page, name="guideline"),
    path("p/<slug:slug>/mine/", rater_views.my_judgments, name="my-judgments"),
    path("p/<slug:slug>/quiz/", rater_views.quiz_page, name="quiz"),
    path("", include("webapp.lead.urls")),
    path("", include("webapp.comparisons.urls")),
    path("", include("webapp.runs.urls")),
    path("", include("webapp.exports.urls")),
    path("", include("webapp.training.urls")),
    path("admin/", admin.site.urls),
]

urlpatterns = api + pages
