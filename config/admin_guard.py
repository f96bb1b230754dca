"""The Django admin's actions obey the roles (DESIGN §4.6): an action that declares no permission
of its own (Django then shows it to anyone who may view the list) is given one, so platform
`support`, who only views, never runs one. Applied to every registered ModelAdmin at start-up
(config's ready(), after the admin has discovered every app's admin module)."""

from config.policy import policy_allows, principal_for_user

PERMISSION = "platform_write"


def _has_platform_write_permission(self, request):
    return policy_allows(principal_for_user(request.user), "django_admin.change")


def admin_actions_need_platform_write(site) -> None:
    for model_admin in site._registry.values():
        cls = type(model_admin)
        if not hasattr(cls, f"has_{PERMISSION}_permission"):
            cls.has_platform_write_permission = _has_platform_write_permission
        for action in cls.actions or ():
            func = getattr(cls, action, None) if isinstance(action, str) else action
            if func is not None and not getattr(func, "allowed_permissions", None):
                func.allowed_permissions = (PERMISSION,)
