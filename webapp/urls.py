from django.contrib import admin
from django.urls import include, path, re_path

from webapp.api import api as json_api
from webapp.core.api import api_not_found
from webapp.raters import views as rater_views

api = [path("api/v1/", json_api.urls), re_path(r"^api/(?P<unmatched>[\s\S]*)\Z", api_not_found)]

pages = [
    path("", rater_views.home, name="home"),
    path("login/", rater_views.login_view, name="login"),
    path("logout/", rater_views.logout_view, name="logout"),
    path("p/<slug:slug>/", rater_views.task_page, name="task"),
    path("p/<slug:slug>/guideline/", rater_views.guideline_page, name="guideline"),
    path("p/<slug:slug>/progress.json", rater_views.task_progress, name="task-progress"),
    path("p/<slug:slug>/mine/", rater_views.my_judgments, name="my-judgments"),
    path("p/<slug:slug>/mine/<int:judgment_id>/", rater_views.my_judgment, name="my-judgment"),
    path("p/<slug:slug>/quiz/", rater_views.quiz_page, name="quiz"),
    path("", include("webapp.lead.urls")),
    path("", include("webapp.diagnostics.urls")),
    path("", include("webapp.labelstudio.urls")),
    path("", include("webapp.comparisons.urls")),
    path("", include("webapp.runs.urls")),
    path("", include("webapp.exports.urls")),
    path("", include("webapp.training.urls")),
    path("", include("webapp.model_diagnostics.urls")),
    path("admin/", admin.site.urls),
]

urlpatterns = api + pages

# Django answers a body over DATA_UPLOAD_MAX_MEMORY_SIZE (or a refused file part) with a 400;
# this handler makes it the 413 page it is, and other 400s a readable page.
handler400 = "webapp.core.views.bad_request"
