"""The intermediate page of admin actions that ask for input (a reason, an amount, a plan)."""

from django.contrib.admin import helpers
from django.template.response import TemplateResponse


def action_form_response(model_admin, request, *, action: str, title: str, intro: str, objects,
                         form, submit_label: str, describe=str) -> TemplateResponse:
    return TemplateResponse(request, "admin/action_form.html", {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": title,
        "intro": intro,
        "items": [(obj.pk, describe(obj)) for obj in objects],
        "form": form,
        "action": action,
        "submit_label": submit_label,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    })
