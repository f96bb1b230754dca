from django.urls import path

from accounts import views

urlpatterns = [
    path("api/auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("api/auth/login", views.LoginView.as_view(), name="auth-login"),
    path("api/auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("api/auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("api/auth/me", views.MeView.as_view(), name="auth-me"),
    # Seed 004
    path("api/v1/auth/admin/login", views.AdminLoginView.as_view(), name="v1-auth-admin-login"),
    path("api/v1/auth/logout", views.LogoutView.as_view(), name="v1-auth-logout"),
    path("api/v1/auth/refresh", views.RefreshView.as_view(), name="v1-auth-refresh"),
    path("api/v1/auth/verify", views.VerifyView.as_view(), name="v1-auth-verify"),
]
