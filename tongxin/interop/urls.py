from django.urls import path

from tongxin.interop import views

app_name = "ledger"
urlpatterns = [
    path("", views.ledger_index, name="index"),
    path("template.xlsx", views.ledger_template, name="template"),
    path("upload/", views.ledger_upload, name="upload"),
    path("<uuid:public_id>/", views.ledger_batch, name="batch"),
    path("<uuid:public_id>/apply/", views.ledger_apply, name="apply"),
]
