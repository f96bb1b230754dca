from django.urls import path

from accounts import views, views_staff
from accounts.otp import views as otp_views

urlpatterns = [
    path("api/auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("api/auth/login", views.LoginView.as_view(), name="auth-login"),
    path("api/auth/refresh", views.RefreshView.as_view(), name="auth-refresh"),
    path("api/auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("api/auth/me", views.MeView.as_view(), name="auth-me"),
    # Phone sign-in (DESIGN §4.9)
    path("api/auth/phone/start", otp_views.PhoneStartView.as_view(), name="auth-phone-start"),
    path("api/auth/phone/verify", otp_views.PhoneVerifyView.as_view(), name="auth-phone-verify"),
    path("api/auth/me/phone/verify", otp_views.PhoneAttachView.as_view(), name="auth-me-phone-verify"),
    # Seed 004
    path("api/v1/auth/admin/login", views.AdminLoginView.as_view(), name="v1-auth-admin-login"),
    path("api/v1/auth/logout", views.LogoutView.as_view(), name="v1-auth-logout"),
    path("api/v1/auth/refresh", views.RefreshView.as_view(), name="v1-auth-refresh"),
    path("api/v1/auth/verify", views.VerifyView.as_view(), name="v1-auth-verify"),
    path("api/v1/tenants/<str:tenant_id>/users", views_staff.TenantUsersView.as_view(), name="v1-tenant-users"),
    path("api/v1/admin/users", views_staff.AdminUsersView.as_view(), name="v1-admin-users"),
    path("api/v1/admin/users/<str:user_id>", views_staff.AdminUserDetailView.as_view(), name="v1-admin-user"),
    path("api/v1/admin/users/<str:user_id>/activity", views_staff.AdminUserActivityView.as_view(),
         name="v1-admin-user-activity"),
]
