from django.urls import path

from webapp.training import views

urlpatterns = [
    path("lead/<slug:slug>/train/", views.train_page, name="train-page"),
    path("lead/<slug:slug>/models/", views.models_page, name="models-page"),
    path("training/<int:job_id>/", views.training_detail, name="training-detail"),
    path("training/<int:job_id>/charts.json", views.training_charts_json, name="training-charts"),
    path("models/<int:model_id>/", views.model_detail, name="model-detail"),
    path("models/<int:model_id>/score/", views.score_submit, name="model-score"),
    path("scores/<int:job_id>/", views.score_detail, name="score-detail"),
]
