"""Every write to the catalog: the API, the admin and data loads all come through here."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import ProtectedError, RestrictedError

from config.audit import audit_record
from config.errors import Conflict, InvalidInput, NotFound
from config.money import rupees
from plans.catalog import BASIC_TOKEN_PLAN_CODE
from plans.models import (
    PRICE_PER_MINUTE,
    PRICE_PER_MINUTE_PAISE,
    TOKENS_LIMIT,
    AddOn,
    CreditPackage,
    RatePlan,
    price_per_minute_paise_of,
)

RATE_PLAN_FIELDS = (
    "code", "name", "description", "monthly_price_paise", "quarterly_price_paise", "annual_price_paise",
    "setup_fee_paise", "currency", "gst_rate", "duration_days", "token_allowance", "tier", "limits",
    "features", "is_public", "is_active", "sort_order",
)
CREDIT_PACKAGE_FIELDS = ("name", "price_paise", "credits", "currency", "is_active", "sort_order")
ADDON_FIELDS = ("code", "description", "payg_price_paise", "one_time_price_paise")
# Names and codes lose surrounding spaces; nothing is ever cut short.
_STRIPPED = ("code", "name")


def _bad(field: str, message: str, code: str = "invalid") -> InvalidInput:
    return InvalidInput(f"{field}: {message}", code=code, fields={field: [message]})


def _known(values: dict, allowed: tuple[str, ...]) -> dict:
    """The fields a service may set, names and codes stripped; anything else is refused."""
    for field in values:
        if field not in allowed:
            raise _bad(field, "Unknown or read-only field.")
    return {field: value.strip() if field in _STRIPPED and isinstance(value, str) else value
            for field, value in values.items()}


def _full_clean(instance: models.Model, *, exclude: tuple[str, ...] = ()) -> None:
    """The model's own field rules (validators, lengths, choices) → InvalidInput naming the field.
    Uniqueness is left to the database (a Conflict when saving); every other constraint has a
    field validator that says the same."""
    try:
        instance.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        fields = {field: list(messages) for field, messages in exc.message_dict.items()}
        field, messages = next(iter(fields.items()))
        raise InvalidInput(f"{field}: {messages[0]}", code="invalid", fields=fields) from exc


def addons_clean(addons) -> list[dict]:
    """Add-on rows as the services store them; every refusal names the field "addons"."""
    if not isinstance(addons, list | tuple):
        raise _bad("addons", "A list is required.")
    clean, codes = [], set()
    for item in addons:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str) or not item["code"].strip():
            raise _bad("addons", "Every add-on needs a code.")
        unknown = set(item) - set(ADDON_FIELDS)
        if unknown:
            raise _bad("addons", f"Unknown add-on field {sorted(unknown)[0]}.")
        addon = AddOn(**{**item, "code": item["code"].strip(), "description": item.get("description") or ""})
        try:
            _full_clean(addon, exclude=("plan",))
        except InvalidInput as exc:
            raise _bad("addons", f"Add-on {addon.code[:60]!r}: {exc.message}") from exc
        if addon.code in codes:
            raise _bad("addons", f"Add-on {addon.code} is listed twice.", code="duplicate_addon")
        codes.add(addon.code)
        clean.append({field: getattr(addon, field) for field in ADDON_FIELDS})
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


# Audit (DESIGN §4.6): every catalog change is an event with the row before and after, so prices
# keep their history.

def rate_plan_snapshot(plan: RatePlan, *, with_addons: bool = True) -> dict:
    state = {"product": plan.product, **{field: getattr(plan, field) for field in RATE_PLAN_FIELDS}}
    if with_addons and plan.pk:
        state["addons"] = [{field: getattr(addon, field) for field in ADDON_FIELDS}
                           for addon in AddOn.objects.filter(plan_id=plan.pk).order_by("code")]
    return state


def credit_package_snapshot(package: CreditPackage) -> dict:
    return {field: getattr(package, field) for field in CREDIT_PACKAGE_FIELDS}


def _audit(*, actor, action: str, instance, before, after) -> None:
    """One event, unless an update changed nothing."""
    if before is not None and after is not None and before == after:
        return
    object_type = "rate_plan" if isinstance(instance, RatePlan) else "credit_package"
    audit_record(actor=actor, action=action, object_type=object_type, object_id=instance.pk,
                 before=before, after=after)


# Derived figures -----------------------------------------------------------------------------
# A figure derived from another is filled in here from its source, so the two cannot disagree;
# one given that disagrees is refused (RatePlan.clean, and on PostgreSQL a check constraint).

def _derive_figures(plan: RatePlan, values: dict) -> None:
    """Fill in `plan`'s derived figures after `values` were applied. (A stored quarterly price is
    not derived: empty means 3 × monthly, a price is a discount, at most 3 × monthly; an update
    changes only the fields it is given, DESIGN §4.6.)"""
    limits = plan.limits
    if isinstance(limits, dict):
        limits = dict(limits)
        if PRICE_PER_MINUTE_PAISE not in limits and PRICE_PER_MINUTE in limits:
            derived = price_per_minute_paise_of(limits[PRICE_PER_MINUTE])
            if derived is not None:  # else RatePlan.clean says what is wrong
                limits[PRICE_PER_MINUTE_PAISE] = derived
        exact = limits.get(PRICE_PER_MINUTE_PAISE)
        if PRICE_PER_MINUTE not in limits and isinstance(exact, int) and not isinstance(exact, bool) and exact >= 0:
            limits[PRICE_PER_MINUTE] = float(rupees(exact))  # seed 002 shows rupees as a JSON number
        if (plan.product == RatePlan.Product.TOKENS and TOKENS_LIMIT in limits and "limits" not in values
                and "token_allowance" in values):
            limits[TOKENS_LIMIT] = plan.token_allowance
        plan.limits = limits


# Rate plans ---------------------------------------------------------------------------------

# The plan every token user falls back to (first use, expiry, refund): it must always exist,
# active and under this code.
FALLBACK_PLANS = {(RatePlan.Product.TOKENS, BASIC_TOKEN_PLAN_CODE)}


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
                     addons: list[dict] | None = None, actor=None, **fields) -> RatePlan:
    """A new plan; `addons` is a list of {code, description, payg_price_paise, one_time_price_paise}."""
    values = _known({"code": code, "name": name, "monthly_price_paise": monthly_price_paise, **fields},
                    RATE_PLAN_FIELDS)
    plan = RatePlan(product=product, **values)
    _derive_figures(plan, values)
    _full_clean(plan)
    addon_rows = addons_clean(addons or [])
    _save(plan, conflict_field="code", message=f"A {product} plan with code {plan.code} exists.")
    AddOn.objects.bulk_create([AddOn(plan=plan, **row) for row in addon_rows])
    _audit(actor=actor, action="rate_plan.create", instance=plan, before=None, after=rate_plan_snapshot(plan))
    return plan


@transaction.atomic
def rate_plan_update(*, plan: RatePlan, addons: list[dict] | None = None, actor=None, **changes) -> RatePlan:
    """Change the given fields (others stay); `addons`, when given, replaces the plan's add-ons.
    The product of a plan never changes (subscriptions and token quotas depend on it)."""
    if "product" in changes:
        if changes.pop("product") != plan.product:
            raise _bad("product", "The product of a plan cannot be changed.", code="product_immutable")
    values = _known(changes, RATE_PLAN_FIELDS)
    plan = _lock(plan)
    before = rate_plan_snapshot(plan)
    _fallback_guard(plan, values=values)
    for field, value in values.items():
        setattr(plan, field, value)
    if values:
        _derive_figures(plan, values)
        _full_clean(plan)
        _save(plan, conflict_field="code", message=f"A {plan.product} plan with code {plan.code} exists.")
    if addons is not None:
        _addons_set(plan=plan, addons=addons)
    action = ("rate_plan.deactivate" if values == {"is_active": False} and addons is None else
              "rate_plan.activate" if values == {"is_active": True} and addons is None else "rate_plan.update")
    _audit(actor=actor, action=action, instance=plan, before=before, after=rate_plan_snapshot(plan))
    return plan


@transaction.atomic
def rate_plan_addons_set(*, plan: RatePlan, addons: list[dict], actor=None) -> list[AddOn]:
    """Make the plan's add-ons exactly `addons` (matched by code: update, create, remove)."""
    plan = _lock(plan)
    before = rate_plan_snapshot(plan)
    result = _addons_set(plan=plan, addons=addons)
    _audit(actor=actor, action="rate_plan.addons_set", instance=plan, before=before,
           after=rate_plan_snapshot(plan))
    return result


def _addons_set(*, plan: RatePlan, addons: list[dict]) -> list[AddOn]:
    rows = addons_clean(addons)
    list(RatePlan.objects.select_for_update().filter(pk=plan.pk).values_list("pk"))  # one writer at a time
    AddOn.objects.filter(plan=plan).exclude(code__in=[row["code"] for row in rows]).delete()
    result = []
    for row in rows:
        addon, _ = AddOn.objects.update_or_create(plan=plan, code=row["code"], defaults=row)
        result.append(addon)
    return result


@transaction.atomic
def rate_plan_deactivate(*, plan: RatePlan, actor=None) -> RatePlan:
    return rate_plan_update(plan=plan, is_active=False, actor=actor)


@transaction.atomic
def rate_plan_activate(*, plan: RatePlan, actor=None) -> RatePlan:
    return rate_plan_update(plan=plan, is_active=True, actor=actor)


@transaction.atomic
def rate_plan_delete(*, plan: RatePlan, actor=None) -> bool:
    """Delete a plan nobody refers to (True). Once anything refers to it (a subscription, an
    order, ...) it is deactivated instead (False): history keeps pointing at a real plan."""
    plan = _lock(plan)
    _fallback_guard(plan, deleting=True)
    before, plan_id = rate_plan_snapshot(plan), plan.pk
    deleted = _delete_or_deactivate(plan, ignore=(AddOn,))
    plan.pk = plan_id
    _audit(actor=actor, action="rate_plan.delete" if deleted else "rate_plan.deactivate", instance=plan,
           before=before, after=None if deleted else rate_plan_snapshot(plan))
    return deleted


# Credit packages ----------------------------------------------------------------------------

@transaction.atomic
def credit_package_create(*, name: str, price_paise: int, credits: int, actor=None,
                          **fields) -> CreditPackage:
    values = _known({"name": name, "price_paise": price_paise, "credits": credits, **fields},
                    CREDIT_PACKAGE_FIELDS)
    package = CreditPackage(**values)
    _full_clean(package)
    _save(package, conflict_field="name", message="Could not save the package.")
    _audit(actor=actor, action="credit_package.create", instance=package, before=None,
           after=credit_package_snapshot(package))
    return package


@transaction.atomic
def credit_package_update(*, package: CreditPackage, actor=None, **changes) -> CreditPackage:
    values = _known(changes, CREDIT_PACKAGE_FIELDS)
    package = _lock(package)
    before = credit_package_snapshot(package)
    for field, value in values.items():
        setattr(package, field, value)
    if values:
        _full_clean(package)
        _save(package, conflict_field="name", message="Could not save the package.")
    action = "credit_package.deactivate" if values == {"is_active": False} else "credit_package.update"
    _audit(actor=actor, action=action, instance=package, before=before,
           after=credit_package_snapshot(package))
    return package


@transaction.atomic
def credit_package_deactivate(*, package: CreditPackage, actor=None) -> CreditPackage:
    return credit_package_update(package=package, is_active=False, actor=actor)


@transaction.atomic
def credit_package_delete(*, package: CreditPackage, actor=None) -> bool:
    """Delete an unused package (True); once orders refer to it, deactivate it (False)."""
    package = _lock(package)
    before, package_id = credit_package_snapshot(package), package.pk
    deleted = _delete_or_deactivate(package)
    package.pk = package_id
    _audit(actor=actor, action="credit_package.delete" if deleted else "credit_package.deactivate",
           instance=package, before=before, after=None if deleted else credit_package_snapshot(package))
    return deleted
