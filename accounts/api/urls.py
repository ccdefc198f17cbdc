from __future__ import annotations

from django.urls import re_path

from accounts.api import views

urlpatterns = [
    re_path(r"^auth/register/?$", views.RegisterView.as_view(), name="auth-register"),
    re_path(r"^auth/login/?$", views.LoginView.as_view(), name="auth-login"),
    re_path(r"^auth/refresh/?$", views.RefreshView.as_view(), name="auth-refresh"),
    re_path(r"^auth/logout/?$", views.LogoutView.as_view(), name="auth-logout"),
    re_path(r"^users/me/?$", views.MeView.as_view(), name="users-me"),
    re_path(r"^users/me/password/?$", views.PasswordView.as_view(), name="users-me-password"),
    re_path(r"^users/me/sessions/?$", views.SessionListView.as_view(), name="users-me-sessions"),
    re_path(
        r"^users/me/sessions/(?P<session_id>[^/]+)/?$",
        views.SessionDetailView.as_view(),
        name="users-me-session",
    ),
    re_path(r"^api/admin/users/?$", views.AdminUserListView.as_view(), name="admin-users"),
]
