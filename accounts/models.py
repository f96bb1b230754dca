from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from config import policy
from config.gst import GSTIN_SHAPE_SQL


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **fields):
        email = self.normalize_email(email).lower() if email else None
        user = self.model(email=email, **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email=None, password=None, **fields):
        # `is_staff` (entry to the Django admin) follows the role: platform staff only.
        fields["is_staff"] = fields.get("role", "") in policy.PLATFORM_ROLES
        fields.setdefault("is_superuser", False)
        return self._create(email, password, **fields)

    def create_superuser(self, email, password=None, **fields):
        fields["role"] = policy.SUPER_ADMIN
        fields["is_staff"] = True
        fields["is_superuser"] = True
        return self._create(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person: a frontend user (email + password), a bot's customer (phone only) or staff."""

    # NULL for phone-only users; NULLs never collide under the unique index.
    email = models.EmailField(unique=True, null=True, blank=True)
    phone = models.CharField(max_length=20, null=True, blank=True, help_text="E.164")
    name = models.CharField(max_length=255, blank=True, default="")
    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    # Seed 000's profile.
    business_name = models.CharField(max_length=255, blank=True, default="")
    is_whatsapp_verified = models.BooleanField(default=False)
    industry_type = models.CharField(max_length=100, blank=True, default="")
    sub_industry = models.CharField(max_length=100, blank=True, default="")
    core_processes = models.JSONField(default=list, blank=True)
    monthly_revenue = models.DecimalField(max_digits=15, decimal_places=2, null=True, blank=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    goal_amount = models.DecimalField(max_digits=15, decimal_places=2, null=True, blank=True)
    goal_years = models.PositiveSmallIntegerField(null=True, blank=True)

    is_active = models.BooleanField(default=True)
    # What the person may do (config.policy, DESIGN §4.6): empty for an end user; platform staff
    # (no tenant) or tenant staff (a tenant). `is_staff` only lets platform staff into the Django
    # admin and always equals "has a platform role" (a database constraint); it grants nothing.
    role = models.CharField(max_length=20, choices=policy.ROLE_CHOICES, blank=True, default="")
    is_staff = models.BooleanField(default=False)
    # Set when this account was merged into another (phone sign-in, DESIGN §4.9): it is then
    # inactive, has given its email/phone to that account, and its ledger shows in that history.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_accounts",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            # A phone identifies a user within a tenant (DESIGN §4.4) ...
            models.UniqueConstraint(
                fields=["tenant", "phone"],
                condition=Q(tenant__isnull=False, phone__isnull=False),
                name="user_phone_unique_per_tenant",
            ),
            # ... and among users that belong to no tenant.
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(tenant__isnull=True, phone__isnull=False),
                name="user_phone_unique_without_tenant",
            ),
            # A merged account has handed its email and phone to the account it was merged into.
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(phone__isnull=False) | Q(merged_into__isnull=False),
                name="user_has_email_or_phone",
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | (Q(is_active=False) & ~Q(merged_into=F("pk"))),
                name="user_merged_is_inactive",
            ),
            # Platform staff have no tenant, tenant staff have one; is_staff (the Django admin's
            # door) is exactly "platform staff"; only a super_admin is a Django superuser.
            models.CheckConstraint(
                condition=(Q(role="", is_staff=False)
                           | Q(role__in=policy.PLATFORM_ROLES, tenant__isnull=True, is_staff=True)
                           | Q(role__in=policy.TENANT_ROLES, tenant__isnull=False, is_staff=False)),
                name="user_role_matches_tenant_and_staff",
            ),
            models.CheckConstraint(condition=Q(is_superuser=False) | Q(role=policy.SUPER_ADMIN),
                                   name="user_superuser_is_super_admin"),
            models.CheckConstraint(
                condition=Q(monthly_revenue__isnull=True) | Q(monthly_revenue__gte=0),
                name="user_monthly_revenue_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(goal_amount__isnull=True) | Q(goal_amount__gte=0),
                name="user_goal_amount_non_negative",
            ),
        ]

    def __str__(self):
        return self.email or self.phone or f"user {self.pk}"

    # The Django admin asks these: platform super_admin/admin may change everything, support may
    # only look (config.policy); nobody else gets in (is_staff is false for them).
    def has_perm(self, perm, obj=None):
        principal = policy.principal_for_user(self)
        if policy.policy_allows(principal, "django_admin.change"):
            return True
        if policy.policy_allows(principal, "django_admin.view"):
            return perm.partition(".")[2].startswith("view_")
        return False

    def has_module_perms(self, app_label):
        return policy.policy_allows(policy.principal_for_user(self), "django_admin.view")

    @property
    def is_platform_staff(self) -> bool:
        return self.role in policy.PLATFORM_ROLES and self.tenant_id is None

    @property
    def is_tenant_staff(self) -> bool:
        return self.role in policy.TENANT_ROLES and self.tenant_id is not None


class BillingProfile(models.Model):
    """Who a user's purchases are billed to: seed 002's `customerData`, and the buyer on tax
    invoices (DESIGN §4.7). Written only by `accounts.billing.billing_profile_save`."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="billing_profile")
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    company = models.CharField(max_length=200, blank=True, default="")
    address = models.CharField(max_length=500, blank=True, default="")
    city = models.CharField(max_length=100, blank=True, default="")
    state = models.CharField(max_length=100, blank=True, default="")
    # GST state code of the place of supply: from the GSTIN, else from a recognised state name.
    state_code = models.CharField(max_length=2, blank=True, default="")
    country = models.CharField(max_length=2, default="IN", help_text="ISO 3166-1 alpha-2")
    postal_code = models.CharField(max_length=20, blank=True, default="")
    phone = models.CharField(max_length=20, blank=True, default="", help_text="E.164")
    gstin = models.CharField(max_length=15, blank=True, default="", verbose_name="GSTIN")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(gstin="") | Q(gstin__regex=GSTIN_SHAPE_SQL),
                name="billingprofile_gstin_shape",
            ),
            models.CheckConstraint(condition=Q(country__regex=r"^[A-Z]{2}$"),
                                   name="billingprofile_country_alpha2"),
            models.CheckConstraint(condition=Q(state_code="") | Q(state_code__regex=r"^[0-9]{2}$"),
                                   name="billingprofile_state_code_digits"),
            models.CheckConstraint(condition=Q(phone="") | Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"),
                                   name="billingprofile_phone_e164"),
        ]

    def __str__(self):
        return f"billing profile of {self.user}"

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


# Phone sign-in's one-time codes live in their own module (accounts.otp); importing the model here
# registers it with the accounts app.
from accounts.otp.models import PhoneCode  # noqa: E402, F401
