from django.urls import path

from webapp.labelstudio import views

urlpatterns = [
    path("lead/<slug:slug>/labelstudio/upload/", views.upload, name="labelstudio-upload"),
    path("lead/<slug:slug>/labelstudio/pull/", views.pull, name="labelstudio-pull"),
    path("lead/<slug:slug>/labelstudio/push/", views.push, name="labelstudio-push"),
]
