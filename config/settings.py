"""Kosh settings: everything comes from the environment (a `.env` file is read when present)."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured

from config.gst import gstin_normalize, gstin_problem

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
# `make run` writes .env (generated secrets, DEBUG=true) so later manage.py commands work.
# Variables already in the environment win. KOSH_ENV_FILE names another file; empty reads none.
ENV_FILE = env.str("KOSH_ENV_FILE", default=".env")
if ENV_FILE and (BASE_DIR / ENV_FILE).exists():  # a relative path is relative to the repo root
    environ.Env.read_env(BASE_DIR / ENV_FILE)

DEBUG = env.bool("DEBUG", default=False)

_DEV_SECRET = "kosh-dev-only-secret-key-do-not-use-in-production-0123456789abcdef"


def _required_secret(name: str) -> str:
    value = env.str(name, default="")
    if value:
        return value
    if DEBUG:
        return ""
    raise ImproperlyConfigured(
        f"{name} is not set. Set it in the environment or in .env "
        f"(it is only optional when DEBUG is on)."
    )


SECRET_KEY = _required_secret("SECRET_KEY") or _DEV_SECRET
# Signing key for our JWTs and for verifying externally issued ones (seed 000).
JWT_SECRET = _required_secret("JWT_SECRET") or SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "corsheaders",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    # Kosh's apps in layer order (DESIGN §2, enforced by .importlinter): each imports only those above it here.
    "config",
    "tenants",
    "accounts",
    "plans",
    "credits",
    "subscriptions",
    "payments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Client IP and request id for audit events (config.audit); X-Request-ID on every answer.
    "config.middleware.AuditContextMiddleware",
    "config.error_pages.ApiJSONErrorsMiddleware",
    # These three serve the admin's pages and are skipped on /api/ (config.middleware). CSRF
    # stays as is: API views are exempt, so it costs them next to nothing.
    "config.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "config.middleware.AuthenticationMiddleware",
    "config.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: turns a locked-out login into accounts.lockout's answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # DB_POOL_SIZE > 0: psycopg's connection pool per worker process (Django 5.1+), shared by its
    # threads; else persistent connections, one per thread. README "Benchmarks" compares them.
    _pool_size = env.int("DB_POOL_SIZE", default=0)
    if _pool_size > 0:
        _options["pool"] = {"min_size": _pool_size, "max_size": _pool_size, "timeout": 10}
        DATABASES["default"]["CONN_MAX_AGE"] = 0
    else:
        # Persistent connections: no reconnect per request.
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    # Server-side parameter binding lets psycopg prepare a statement run often (prepare_threshold).
    _options["server_side_binding"] = env.bool("DB_SERVER_SIDE_BINDING", default=False)
    # Without a health check, a connection broken by a database restart or failover fails the
    # next request of every worker with a 500. Django's check is one `SELECT 1` round trip on a
    # reused connection's first query of a request (benchmarks/conn_health_checks.py measures it);
    # config.postgresql skips it while the connection is busy and its socket is quiet.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DB_CONN_HEALTH_CHECKS", default=True)
    DATABASES["default"]["ENGINE"] = "config.postgresql"
# The hot paths' fixed statements (the bot's deduction, the ledger moves, the token usage read)
# go through config.db.prepared_fetchone: PostgreSQL prepares them once per connection. Turn off
# behind a transaction-mode pooler that does not keep prepared statements.
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)
if DATABASES["default"]["ENGINE"] == "config.postgresql" and DB_PREPARED_STATEMENTS:
    # psycopg's default: a server-binding cursor prepares a query run five times. With Django's
    # client-side binding only prepared_fetchone binds on the server (and prepares at first run);
    # with DB_SERVER_SIDE_BINDING every query does.
    DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# django-axes first: a locked-out account or address is refused before any password check.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login lockout (admin and API logins): LOGIN_FAILURE_LIMIT failures lock the account and,
# separately, the client address for LOGIN_LOCKOUT_MINUTES after the last failure.
# `manage.py axes_reset_username <email>` / `axes_reset_ip <address>` / `axes_reset` unlock.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=60))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]  # each on its own, not the pair
AXES_USERNAME_CALLABLE = "accounts.lockout.lockout_username"
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
AXES_RESET_ON_SUCCESS = False  # a success must not wipe the failures counted against an address
# Proxies in front of the app that append to X-Forwarded-For (0: use the peer address).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# The billing month is the calendar month in this zone (DESIGN §3).
BILLING_TIME_ZONE = env.str("BILLING_TIME_ZONE", default="UTC")
DEFAULT_PHONE_REGION = env.str("DEFAULT_PHONE_REGION", default="IN")
FREE_SIGNUP_CREDITS = env.int("FREE_SIGNUP_CREDITS", default=3)
TOKENS_SELF_SERVICE_UPGRADE = env.bool("TOKENS_SELF_SERVICE_UPGRADE", default=False)

# --- subscriptions (seed 002, DESIGN §4.3) ---------------------------------------------------
# The product of /api/rate-plans/public, /api/rate-plans/code/:code and
# /api/subscriptions/my-subscription when no ?product= is given.
DEFAULT_PLAN_PRODUCT = env.str("DEFAULT_PLAN_PRODUCT", default="telephony")
# Seconds a checkout may stay unpaid (`pending`) before the period close expires it.
SUBSCRIPTION_PENDING_TTL = env.int("SUBSCRIPTION_PENDING_TTL", default=24 * 3600)
# The period close (`manage.py process_subscriptions`), in days: the upcoming-renewal notice
# goes out this long before the period ends; an unpaid renewal makes the subscription past_due,
# then suspended, then expired this long after the close.
SUBSCRIPTION_RENEWAL_NOTICE_DAYS = env.int("SUBSCRIPTION_RENEWAL_NOTICE_DAYS", default=3)
SUBSCRIPTION_PAYMENT_DUE_DAYS = env.int("SUBSCRIPTION_PAYMENT_DUE_DAYS", default=3)
SUBSCRIPTION_GRACE_DAYS = env.int("SUBSCRIPTION_GRACE_DAYS", default=7)
SUBSCRIPTION_EXPIRE_DAYS = env.int("SUBSCRIPTION_EXPIRE_DAYS", default=30)
if not (0 <= SUBSCRIPTION_PAYMENT_DUE_DAYS <= SUBSCRIPTION_GRACE_DAYS <= SUBSCRIPTION_EXPIRE_DAYS):
    raise ImproperlyConfigured("SUBSCRIPTION_PAYMENT_DUE_DAYS <= SUBSCRIPTION_GRACE_DAYS <= "
                               "SUBSCRIPTION_EXPIRE_DAYS is required (all counted from the period close).")

# Email (renewal notices): Django's backends; the console by default.
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Kosh <billing@kosh.local>")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# No browser origin is trusted by default in production; DEBUG trusts the usual dev servers.
CORS_ALLOWED_ORIGINS = env.list(
    "CORS_ALLOWED_ORIGINS",
    default=["http://localhost:5173", "http://localhost:3000"] if DEBUG else [],
)
# Browsers may send the headers our endpoints read (idempotency, API keys, webhook signatures).
CORS_ALLOW_HEADERS = (*cors_default_headers, "idempotency-key", "x-bot-secret", "x-razorpay-signature")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["config.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "config.exceptions.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "auth": env.str("AUTH_THROTTLE_RATE", default="20/min"),
        "payments": env.str("PAYMENTS_THROTTLE_RATE", default="30/min"),
    },
    "COERCE_DECIMAL_TO_STRING": False,
    "UNICODE_JSON": True,
}

JWT_ACCESS_LIFETIME = env.int("JWT_ACCESS_LIFETIME", default=15 * 60)
# The furthest `exp` an access token (ours or an external one) may carry, in seconds from now.
JWT_MAX_TOKEN_LIFETIME = env.int("JWT_MAX_TOKEN_LIFETIME", default=max(24 * 3600, JWT_ACCESS_LIFETIME))
if JWT_MAX_TOKEN_LIFETIME < JWT_ACCESS_LIFETIME:
    raise ImproperlyConfigured("JWT_MAX_TOKEN_LIFETIME is shorter than JWT_ACCESS_LIFETIME.")
# When set, tokens must carry this `iss` / `aud` (ours are issued with them).
JWT_ISSUER = env.str("JWT_ISSUER", default="")
JWT_AUDIENCE = env.str("JWT_AUDIENCE", default="")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=JWT_ACCESS_LIFETIME),
    "REFRESH_TOKEN_LIFETIME": timedelta(
        seconds=env.int("JWT_REFRESH_LIFETIME", default=7 * 24 * 3600)
    ),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SECRET,
    "ISSUER": JWT_ISSUER or None,
    "AUDIENCE": JWT_AUDIENCE or None,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Kosh API",
    "DESCRIPTION": "Billing, quotas, credits and payments backend.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {},
}

REDIS_URL = env.str("REDIS_URL", default="")
# How long a worker may trust what authenticated a request (an API key and its tenant, a JWT's
# user) without asking the database: a revoked key, a suspended or archived tenant, a deactivated
# user are refused at once on the worker that made the change (and everywhere with REDIS_URL) and
# within this many seconds elsewhere (DESIGN §4.6). 0 turns these caches off.
API_KEY_CACHE_SECONDS = env.int("API_KEY_CACHE_SECONDS", default=5)
# Seconds a worker serves the public catalog (GET /api/rate-plans/public) from its cache; a
# change through the services or the admin clears it at once (everywhere with REDIS_URL).
CATALOG_CACHE_SECONDS = env.int("CATALOG_CACHE_SECONDS", default=60)
if API_KEY_CACHE_SECONDS < 0 or CATALOG_CACHE_SECONDS < 0:
    raise ImproperlyConfigured("API_KEY_CACHE_SECONDS and CATALOG_CACHE_SECONDS must be >= 0.")


def _cache(name: str) -> dict:
    """Redis shared by every app server when REDIS_URL is set, else this process's memory."""
    if REDIS_URL:
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
                "KEY_PREFIX": f"kosh:{name}"}
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"kosh-{name}",
            "OPTIONS": {"MAX_ENTRIES": 100_000}}


CACHES = {
    "default": _cache("default"),  # rate limits and other shared counters
    "auth": _cache("auth"),  # API keys, tenants, JWT users, the public catalog (short-lived)
}

# Production hardening (DESIGN §7): on unless DEBUG, each overridable for a TLS-terminating proxy.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# /api/health must answer plain HTTP probes from a load balancer.
SECURE_REDIRECT_EXEMPT = [r"^api/health$"]
SILENCED_SYSTEM_CHECKS = env.list("SILENCED_SYSTEM_CHECKS", default=["security.W021"])

# --- payments (issue 6) -------------------------------------------------------------------
# Gateway: "razorpay" or "sandbox"; empty = razorpay when RAZORPAY_KEY_ID is set, else sandbox.
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="")
RAZORPAY_KEY_ID = env.str("RAZORPAY_KEY_ID", default="")
RAZORPAY_KEY_SECRET = env.str("RAZORPAY_KEY_SECRET", default="")
RAZORPAY_WEBHOOK_SECRET = env.str("RAZORPAY_WEBHOOK_SECRET", default="")
RAZORPAY_BASE_URL = env.str("RAZORPAY_BASE_URL", default="https://api.razorpay.com")
RAZORPAY_TIMEOUT = env.float("RAZORPAY_TIMEOUT", default=10.0)  # seconds, on every SDK call
# HMAC key of the in-process sandbox gateway; empty = derived from SECRET_KEY.
PAYMENT_SANDBOX_SECRET = env.str("PAYMENT_SANDBOX_SECRET", default="")
PAYMENT_ORDER_TTL = env.int("PAYMENT_ORDER_TTL", default=24 * 3600)  # seconds; expire_orders
PAYMENT_RECONCILE_GRACE_MINUTES = env.int("PAYMENT_RECONCILE_GRACE_MINUTES", default=15)
# --- end payments --------------------------------------------------------------------------

# --- GST invoices (issue 13, DESIGN §4.7) --------------------------------------------------
# The seller printed on every invoice. SELLER_GSTIN is checked at start-up when set (its first
# two digits give the seller's state); `check --deploy` warns while it is empty. SELLER_STATE
# (a name or code) is used only when there is no GSTIN.
# With DEBUG on and none of the SELLER_* variables given (`make run`), invoices name an obviously
# made-up seller so they look complete (a Karnataka GSTIN that passes the check, so a place of
# supply and the IGST/CGST+SGST split show). Never without DEBUG: there the GSTIN stays empty
# and `check --deploy` warns.
_SELLER_VARIABLES = ("SELLER_NAME", "SELLER_ADDRESS", "SELLER_GSTIN", "SELLER_STATE")
DEMO_SELLER = {"SELLER_NAME": "Kosh Demo", "SELLER_ADDRESS": "Demo seller, 1 MG Road, Bengaluru 560001",
               "SELLER_GSTIN": "29DEMOC0000D1ZA", "SELLER_STATE": ""}
_PRODUCTION_SELLER = {"SELLER_NAME": "Kosh", "SELLER_ADDRESS": "", "SELLER_GSTIN": "", "SELLER_STATE": ""}
_SELLER_DEFAULTS = (DEMO_SELLER if DEBUG and not any(name in env.ENVIRON for name in _SELLER_VARIABLES)
                    else _PRODUCTION_SELLER)
SELLER_NAME = env.str("SELLER_NAME", default=_SELLER_DEFAULTS["SELLER_NAME"])
SELLER_ADDRESS = env.str("SELLER_ADDRESS", default=_SELLER_DEFAULTS["SELLER_ADDRESS"])
SELLER_GSTIN = gstin_normalize(env.str("SELLER_GSTIN", default=_SELLER_DEFAULTS["SELLER_GSTIN"]))
if SELLER_GSTIN and gstin_problem(SELLER_GSTIN):
    raise ImproperlyConfigured(f"SELLER_GSTIN {SELLER_GSTIN} is not a valid GSTIN: {gstin_problem(SELLER_GSTIN)}")
SELLER_STATE = env.str("SELLER_STATE", default=_SELLER_DEFAULTS["SELLER_STATE"])
# Numbers are PREFIX + "26-27/" + 5 digits, at most 16 characters: a prefix of at most 5.
INVOICE_PREFIX = env.str("INVOICE_PREFIX", default="INV/")
CREDIT_NOTE_PREFIX = env.str("CREDIT_NOTE_PREFIX", default="CN/")
# Standard rate of the tax-inclusive token plans and credit packs (percent).
GST_RATE = Decimal(env.str("GST_RATE", default="18"))
# SAC per product: 998315 hosting and IT infrastructure provisioning (application service
# provisioning: token plans, tenant platform plans, credits); 998419 other telecommunications
# services (seed 002's toll-free numbers, extensions and minutes). Override per key, e.g.
# INVOICE_SAC_CODES=telephony=998412,credits=998439.
INVOICE_SAC_CODES = {
    "default": "998315", "tokens": "998315", "platform": "998315", "credits": "998315",
    "telephony": "998419",
    **env.dict("INVOICE_SAC_CODES", default={}),
}
# --- end GST invoices ----------------------------------------------------------------------

# --- phone sign-in (issue 17, DESIGN §4.9) ---------------------------------------------------
# The tenant a phone sign-in lands in when the body names none (seed_demo creates "demo").
DEFAULT_TENANT_SLUG = env.str("DEFAULT_TENANT_SLUG", default="demo")
# How one-time codes are delivered: "console" (the log), "webhook" or "msg91".
OTP_SENDER = env.str("OTP_SENDER", default="console")
# The console sender writes codes to the log, so it refuses to run with DEBUG off unless allowed.
OTP_CONSOLE_ALLOWED = env.bool("OTP_CONSOLE_ALLOWED", default=DEBUG)
OTP_START_RATE = env.str("OTP_START_RATE", default="20/hour")  # code requests per client address
OTP_SEND_TIMEOUT = env.float("OTP_SEND_TIMEOUT", default=5.0)  # seconds, on every delivery call
OTP_WEBHOOK_URL = env.str("OTP_WEBHOOK_URL", default="")
OTP_WEBHOOK_SECRET = env.str("OTP_WEBHOOK_SECRET", default="")
MSG91_AUTH_KEY = env.str("MSG91_AUTH_KEY", default="")
MSG91_TEMPLATE_ID = env.str("MSG91_TEMPLATE_ID", default="")
MSG91_BASE_URL = env.str("MSG91_BASE_URL", default="https://control.msg91.com")
# --- end phone sign-in ---------------------------------------------------------------------

# --- Cashfree and routing (issue 15) -------------------------------------------------------
CASHFREE_CLIENT_ID = env.str("CASHFREE_CLIENT_ID", default="")
CASHFREE_CLIENT_SECRET = env.str("CASHFREE_CLIENT_SECRET", default="")
# After a rotation, webhooks signed with the old secret (retries of earlier events) still verify
# while this is set, and until CASHFREE_CLIENT_SECRET_PREVIOUS_UNTIL (ISO 8601) when that is set.
CASHFREE_CLIENT_SECRET_PREVIOUS = env.str("CASHFREE_CLIENT_SECRET_PREVIOUS", default="")
CASHFREE_CLIENT_SECRET_PREVIOUS_UNTIL = env.str("CASHFREE_CLIENT_SECRET_PREVIOUS_UNTIL", default="")
CASHFREE_ENVIRONMENT = env.str("CASHFREE_ENVIRONMENT", default="sandbox")  # sandbox | production
# Empty = Cashfree's URL for CASHFREE_ENVIRONMENT; tests point it at a fake server.
CASHFREE_BASE_URL = env.str("CASHFREE_BASE_URL", default="")
CASHFREE_API_VERSION = env.str("CASHFREE_API_VERSION", default="2025-01-01")
CASHFREE_TIMEOUT = env.float("CASHFREE_TIMEOUT", default=10.0)  # seconds, on every call
CASHFREE_WEBHOOK_TOLERANCE_SECONDS = env.int("CASHFREE_WEBHOOK_TOLERANCE_SECONDS", default=300)
# Where Cashfree Checkout sends the buyer back ("{order_id}" is replaced by Cashfree); optional.
CASHFREE_RETURN_URL = env.str("CASHFREE_RETURN_URL", default="")
# Cashfree requires a customer phone; buyers without one (email sign-ups) are sent with this.
CASHFREE_DEFAULT_CUSTOMER_PHONE = env.str("CASHFREE_DEFAULT_CUSTOMER_PHONE", default="9999999999")
# What each gateway charges per payment (before GST, which is the same 18% on both and so
# never changes which is cheaper): percent of the amount + a fixed fee in paise. Seed 004:
# Razorpay 2%, Cashfree 1.5% + ₹3, so they cost the same at ₹600.
PAYMENT_FEES = {
    "razorpay": {"percent": env.str("RAZORPAY_FEE_PERCENT", default="2"),
                 "fixed_paise": env.int("RAZORPAY_FEE_FIXED_PAISE", default=0)},
    "cashfree": {"percent": env.str("CASHFREE_FEE_PERCENT", default="1.5"),
                 "fixed_paise": env.int("CASHFREE_FEE_FIXED_PAISE", default=300)},
}
# Circuit breaker (state in the cache, so every worker agrees when REDIS_URL is set): this many
# consecutive failures within PAYMENT_BREAKER_WINDOW seconds keep a gateway out of routing for
# PAYMENT_BREAKER_COOLDOWN seconds; then one request probes it.
PAYMENT_BREAKER_FAILURES = env.int("PAYMENT_BREAKER_FAILURES", default=3)
PAYMENT_BREAKER_WINDOW = env.int("PAYMENT_BREAKER_WINDOW", default=300)
PAYMENT_BREAKER_COOLDOWN = env.int("PAYMENT_BREAKER_COOLDOWN", default=60)
# --- end Cashfree and routing --------------------------------------------------------------

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # urllib3 logs request URLs at DEBUG, and MSG91's SendOTP URL carries the one-time code.
        "urllib3": {"level": "WARNING"},
        # axes logs every failed login at INFO and each new lockout record at WARNING.
        "axes": {"level": "WARNING"},
    },
}
