"""Every write to the catalog: the API, the admin and data loads all come through here."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError, RestrictedError

from config.errors import Conflict, InvalidInput, NotFound
from plans.models import AddOn, CreditPackage, RatePlan

RATE_PLAN_FIELDS = (
    "code", "name", "description", "monthly_price_paise", "quarterly_price_paise", "annual_price_paise",
    "setup_fee_paise", "currency", "gst_rate", "duration_days", "token_allowance", "tier", "limits",
    "features", "is_public", "is_active", "sort_order",
)
CREDIT_PACKAGE_FIELDS = ("name", "price_paise", "credits", "currency", "is_active", "sort_order")
ADDON_FIELDS = ("code", "description", "payg_price_paise", "one_time_price_paise")
_MONEY_FIELDS = ("monthly_price_paise", "quarterly_price_paise", "annual_price_paise", "setup_fee_paise")
_NULLABLE = {"quarterly_price_paise", "annual_price_paise", "duration_days"}
_MAX_PAISE = 10**14


def _bad(field: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(f"{field}: {message}", code=code, fields={field: [message]})


def _int(field: str, value, *, minimum: int = 0, maximum: int = _MAX_PAISE, nullable: bool = False):
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(field, "A whole number is required.")
    if not minimum <= value <= maximum:
        raise _bad(field, f"Must be between {minimum} and {maximum}.")
    return value


def _has_nul(value) -> bool:
    """PostgreSQL text and jsonb cannot hold NUL characters; refuse them as bad input, not a 500."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def _percent(field: str, value) -> Decimal:
    message = "A percentage between 0 and 100 with at most 2 decimals is required."
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise _bad(field, message)
    try:
        value = Decimal(value)
    except (InvalidOperation, ValueError) as exc:
        raise _bad(field, message) from exc
    if not value.is_finite() or not 0 <= value <= 100 or value != value.quantize(Decimal("0.01")):
        raise _bad(field, message)
    return value


def rate_plan_fields_clean(values: dict) -> dict:
    """Type and range checks of RatePlan fields (the database constraints say the same)."""
    clean = {}
    for field, value in values.items():
        if field not in RATE_PLAN_FIELDS:
            raise _bad(field, "Unknown or read-only field.")
        if _has_nul(value):
            raise _bad(field, "NUL characters are not allowed.")
        if field in _MONEY_FIELDS:
            value = _int(field, value, nullable=field in _NULLABLE)
        elif field == "duration_days":
            value = _int(field, value, minimum=1, maximum=36_500, nullable=True)
        elif field in ("token_allowance",):
            value = _int(field, value, maximum=10**15)
        elif field in ("tier", "sort_order"):
            value = _int(field, value, minimum=-(10**6) if field == "sort_order" else 0, maximum=10**6)
        elif field == "gst_rate":
            value = _percent(field, value)
        elif field in ("code", "name"):
            if not isinstance(value, str) or not value.strip():
                raise _bad(field, "May not be blank.")
            value = value.strip()
            limit = RatePlan._meta.get_field(field).max_length
            if len(value) > limit:
                raise _bad(field, f"At most {limit} characters.")
        elif field == "description":
            if not isinstance(value, str):
                raise _bad(field, "Text is required.")
        elif field == "currency":
            if value != "INR":
                raise _bad(field, "Only INR is supported.")
        elif field == "limits":
            if not isinstance(value, dict):
                raise _bad(field, "An object is required.")
        elif field == "features":
            if not isinstance(value, list):
                raise _bad(field, "A list is required.")
        elif field in ("is_public", "is_active"):
            if not isinstance(value, bool):
                raise _bad(field, "true or false is required.")
        clean[field] = value
    return clean


def addons_clean(addons) -> list[dict]:
    if not isinstance(addons, list | tuple):
        raise _bad("addons", "A list is required.")
    if _has_nul(list(addons)):
        raise _bad("addons", "NUL characters are not allowed.")
    clean, codes = [], set()
    for item in addons:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str) or not item["code"].strip():
            raise _bad("addons", "Every add-on needs a code.")
        unknown = set(item) - set(ADDON_FIELDS)
        if unknown:
            raise _bad("addons", f"Unknown add-on field {sorted(unknown)[0]}.")
        code = item["code"].strip()
        if len(code) > AddOn._meta.get_field("code").max_length:
            raise _bad("addons", f"Add-on code {code[:60]} is too long.")
        if code in codes:
            raise _bad("addons", f"Add-on {code} is listed twice.", code="duplicate_addon")
        codes.add(code)
        description = item.get("description") or ""
        if not isinstance(description, str) or len(description) > AddOn._meta.get_field("description").max_length:
            raise _bad("addons", f"Add-on {code}: description must be text of at most 200 characters.")
        clean.append({
            "code": code,
            "description": description,
            "payg_price_paise": _int("addons", item.get("payg_price_paise", 0)),
            "one_time_price_paise": _int("addons", item.get("one_time_price_paise", 0)),
        })
    return clean


_NOT_FOUND = {RatePlan: ("Rate plan not found.", "plan_not_found"),
              CreditPackage: ("Credit package not found.", "package_not_found")}


def _lock(instance: models.Model) -> models.Model:
    """The row again, locked; gone meanwhile (a concurrent delete) → 404, not a crash."""
    locked = type(instance).objects.select_for_update().filter(pk=instance.pk).first()
    if locked is None:
        message, code = _NOT_FOUND[type(instance)]
        raise NotFound(message, code=code)
    return locked


def _save(instance: models.Model, *, conflict_field: str, message: str) -> None:
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise Conflict(message, code=f"{conflict_field}_taken", fields={conflict_field: [message]}) from exc


def _is_referenced(instance: models.Model, *, ignore: tuple[type[models.Model], ...] = ()) -> bool:
    """Does any row of another model point at `instance`? Every reverse relation counts, whatever
    its on_delete (a CASCADE from e.g. subscriptions must never delete history with the plan)."""
    for relation in instance._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete):
            continue
        if not (relation.one_to_many or relation.one_to_one or relation.many_to_many):
            continue
        model = relation.related_model
        if model in ignore or model is None:
            continue
        if model._base_manager.filter(**{relation.field.name: instance}).exists():
            return True
    return False


def _delete_or_deactivate(instance: models.Model, *, ignore=()) -> bool:
    """Delete `instance` if nothing refers to it (True); otherwise mark it inactive (False)."""
    if not _is_referenced(instance, ignore=ignore):
        try:
            with transaction.atomic():
                instance.delete()
            return True
        except (ProtectedError, RestrictedError, IntegrityError):
            pass
    instance.is_active = False
    instance.save(update_fields=["is_active", "updated_at"])
    return False


# Rate plans ---------------------------------------------------------------------------------

# The plan every token user falls back to (first use, expiry, refund): it must always exist,
# active and under this code.
FALLBACK_PLANS = {(RatePlan.Product.TOKENS, "basic")}


def _fallback_guard(plan: RatePlan, *, deleting: bool = False, values: dict | None = None) -> None:
    if (plan.product, plan.code) not in FALLBACK_PLANS:
        return
    values = values or {}
    if deleting or values.get("is_active") is False or values.get("code", plan.code) != plan.code:
        raise InvalidInput(
            f"The {plan.product} plan {plan.code!r} is the fallback plan; it cannot be deleted, "
            "deactivated or renamed.", code="plan_protected", fields={"plan_code": ["Protected."]},
        )


@transaction.atomic
def rate_plan_create(*, product: str, code: str, name: str, monthly_price_paise: int,
                     addons: list[dict] | None = None, **fields) -> RatePlan:
    """A new plan; `addons` is a list of {code, description, payg_price_paise, one_time_price_paise}."""
    if product not in RatePlan.Product.values:
        raise _bad("product", f"Must be one of {', '.join(RatePlan.Product.values)}.", code="invalid_product")
    values = rate_plan_fields_clean({"code": code, "name": name, "monthly_price_paise": monthly_price_paise,
                               **fields})
    addon_rows = addons_clean(addons or [])
    plan = RatePlan(product=product, **values)
    _save(plan, conflict_field="code", message=f"A {product} plan with code {plan.code} exists.")
    AddOn.objects.bulk_create([AddOn(plan=plan, **row) for row in addon_rows])
    return plan


@transaction.atomic
def rate_plan_update(*, plan: RatePlan, addons: list[dict] | None = None, **changes) -> RatePlan:
    """Change the given fields (others stay); `addons`, when given, replaces the plan's add-ons.
    The product of a plan never changes (subscriptions and token quotas depend on it)."""
    if "product" in changes:
        if changes.pop("product") != plan.product:
            raise _bad("product", "The product of a plan cannot be changed.", code="product_immutable")
    values = rate_plan_fields_clean(changes)
    plan = _lock(plan)
    _fallback_guard(plan, values=values)
    for field, value in values.items():
        setattr(plan, field, value)
    if values:
        _save(plan, conflict_field="code", message=f"A {plan.product} plan with code {plan.code} exists.")
    if addons is not None:
        rate_plan_addons_set(plan=plan, addons=addons)
    return plan


@transaction.atomic
def rate_plan_addons_set(*, plan: RatePlan, addons: list[dict]) -> list[AddOn]:
    """Make the plan's add-ons exactly `addons` (matched by code: update, create, remove)."""
    rows = addons_clean(addons)
    list(RatePlan.objects.select_for_update().filter(pk=plan.pk).values_list("pk"))  # one writer at a time
    AddOn.objects.filter(plan=plan).exclude(code__in=[row["code"] for row in rows]).delete()
    result = []
    for row in rows:
        addon, _ = AddOn.objects.update_or_create(plan=plan, code=row["code"], defaults=row)
        result.append(addon)
    return result


@transaction.atomic
def rate_plan_deactivate(*, plan: RatePlan) -> RatePlan:
    return rate_plan_update(plan=plan, is_active=False)


@transaction.atomic
def rate_plan_activate(*, plan: RatePlan) -> RatePlan:
    return rate_plan_update(plan=plan, is_active=True)


@transaction.atomic
def rate_plan_delete(*, plan: RatePlan) -> bool:
    """Delete a plan nobody refers to (True). Once anything refers to it (a subscription, an
    order, ...) it is deactivated instead (False): history keeps pointing at a real plan."""
    plan = _lock(plan)
    _fallback_guard(plan, deleting=True)
    return _delete_or_deactivate(plan, ignore=(AddOn,))


# Credit packages ----------------------------------------------------------------------------

def credit_package_fields_clean(values: dict) -> dict:
    clean = {}
    for field, value in values.items():
        if field not in CREDIT_PACKAGE_FIELDS:
            raise _bad(field, "Unknown or read-only field.")
        if _has_nul(value):
            raise _bad(field, "NUL characters are not allowed.")
        if field == "price_paise":
            value = _int(field, value, minimum=1)
        elif field == "credits":
            value = _int(field, value, minimum=1, maximum=10**15)
        elif field == "sort_order":
            value = _int(field, value, minimum=-(10**6), maximum=10**6)
        elif field == "name":
            if not isinstance(value, str) or not value.strip():
                raise _bad(field, "May not be blank.")
            value = value.strip()[:120]
        elif field == "currency":
            if value != "INR":
                raise _bad(field, "Only INR is supported.")
        elif field == "is_active":
            if not isinstance(value, bool):
                raise _bad(field, "true or false is required.")
        clean[field] = value
    return clean


@transaction.atomic
def credit_package_create(*, name: str, price_paise: int, credits: int, **fields) -> CreditPackage:
    values = credit_package_fields_clean({"name": name, "price_paise": price_paise, "credits": credits, **fields})
    package = CreditPackage(**values)
    _save(package, conflict_field="name", message="Could not save the package.")
    return package


@transaction.atomic
def credit_package_update(*, package: CreditPackage, **changes) -> CreditPackage:
    values = credit_package_fields_clean(changes)
    package = _lock(package)
    for field, value in values.items():
        setattr(package, field, value)
    if values:
        _save(package, conflict_field="name", message="Could not save the package.")
    return package


@transaction.atomic
def credit_package_deactivate(*, package: CreditPackage) -> CreditPackage:
    return credit_package_update(package=package, is_active=False)


@transaction.atomic
def credit_package_delete(*, package: CreditPackage) -> bool:
    """Delete an unused package (True); once orders refer to it, deactivate it (False)."""
    package = _lock(package)
    return _delete_or_deactivate(package)
