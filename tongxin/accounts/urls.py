from django.urls import path

from tongxin.accounts import views, views_security

app_name = "accounts"
urlpatterns = [
    path("password/", views_security.password_change, name="password"),
    path("tokens/", views_security.token_list, name="token_list"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<uuid:public_id>/", views.user_detail, name="user_detail"),
    path("users/<uuid:public_id>/security/", views_security.user_security, name="user_security"),
    path("grants/", views_security.grant_list, name="grant_list"),
    path("grants/<uuid:public_id>/", views_security.grant_decide, name="grant_decide"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/new/", views.organisation_create, name="organisation_create"),
    path("organisations/<uuid:public_id>/", views.organisation_detail, name="organisation_detail"),
]
