import factory

from accounts.models import User
from config import policy

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    is_active = True
    is_staff = False
    is_superuser = False
    tenant = None
    # The role; `is_staff`/`is_superuser` follow it (as in the admin's form). Written the old way
    # (`is_staff=True`, `is_superuser=True`), a user gets the role migration 0005 gives such users.
    role = factory.LazyAttribute(lambda o: _legacy_role(o))

    class Params:
        super_admin = factory.Trait(role=policy.SUPER_ADMIN)
        platform_admin = factory.Trait(role=policy.ADMIN)
        support = factory.Trait(role=policy.SUPPORT)
        tenant_admin = factory.Trait(role=policy.TENANT_ADMIN,
                                     tenant=factory.SubFactory("tenants.tests.factories.TenantFactory"))
        tenant_staff = factory.Trait(role=policy.TENANT_STAFF,
                                     tenant=factory.SubFactory("tenants.tests.factories.TenantFactory"))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        role = kwargs.get("role") or ""
        kwargs["is_staff"] = role in policy.PLATFORM_ROLES
        kwargs["is_superuser"] = role == policy.SUPER_ADMIN
        return super()._create(model_class, *args, **kwargs)

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or DEFAULT_PASSWORD)
        if create:
            obj.save(update_fields=["password"])


class PhoneUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = None
    phone = factory.Sequence(lambda n: f"+9198{n:08d}")
    password = "!"  # unusable


def _legacy_role(o) -> str:
    if not (o.is_staff or o.is_superuser):
        return ""
    if o.tenant is not None:
        return policy.TENANT_ADMIN
    return policy.SUPER_ADMIN if o.is_superuser else policy.ADMIN


def super_admin(**kwargs) -> User:
    return UserFactory(super_admin=True, **kwargs)


def platform_admin(**kwargs) -> User:
    return UserFactory(platform_admin=True, **kwargs)


def platform_support(**kwargs) -> User:
    return UserFactory(support=True, **kwargs)


def tenant_admin(tenant, **kwargs) -> User:
    return UserFactory(role=policy.TENANT_ADMIN, tenant=tenant, **kwargs)


def tenant_staff(tenant, **kwargs) -> User:
    return UserFactory(role=policy.TENANT_STAFF, tenant=tenant, **kwargs)
