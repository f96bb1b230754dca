"""Code delivery behind one small interface, chosen by `OTP_SENDER` (DESIGN §4.9).

- `console`: writes the code to the log (what `make run` prints). Development only: with DEBUG
  off it refuses (503) unless `OTP_CONSOLE_ALLOWED=true`.
- `webhook`: POSTs `{"phone_number", "tenant", "code"}` to `OTP_WEBHOOK_URL` so the tenant's
  WhatsApp bot delivers it. The body is compact JSON (UTF-8, keys in that order, separators
  `,` and `:`); `X-Kosh-Signature` is the lowercase hex HMAC-SHA256 of exactly those body bytes
  keyed with `OTP_WEBHOOK_SECRET`. A receiver verifies it over the raw body, in constant time.
  Any 2xx is delivery.
- `msg91`: MSG91's SendOTP API (v5): `POST {MSG91_BASE_URL}/api/v5/otp?template_id=…&mobile=…
  &otp=…&otp_length=6&otp_expiry=5` with the `authkey` header (never in the URL, which proxies
  log); MSG91 answers `{"type": "success", "request_id": …}` or `{"type": "error", "message": …}`,
  sometimes with HTTP 200, so both the status and `type` are checked. The DLT template must
  carry the `##OTP##` variable.

Every call has the `OTP_SEND_TIMEOUT` timeout. A failure raises `DeliveryFailed` (502); logs
never carry a code (except the console sender's), a secret, or a whole phone number.
"""

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from django.conf import settings
from rest_framework import status as http

from accounts.phones import phone_masked
from config.errors import BadGateway, ServiceError

logger = logging.getLogger("kosh.otp")

CONSOLE, WEBHOOK, MSG91 = "console", "webhook", "msg91"
SENDERS = (CONSOLE, WEBHOOK, MSG91)
SIGNATURE_HEADER = "X-Kosh-Signature"


class DeliveryFailed(BadGateway):
    code = "otp_delivery_failed"
    default_message = "The code could not be delivered. Please try again shortly."


class SenderUnavailable(ServiceError):
    status_code = http.HTTP_503_SERVICE_UNAVAILABLE
    code = "otp_unavailable"
    default_message = "Phone sign-in is not available right now."


def webhook_body(*, phone: str, tenant_slug: str, code: str) -> bytes:
    return json.dumps({"phone_number": phone, "tenant": tenant_slug, "code": code},
                      separators=(",", ":"), ensure_ascii=False).encode()


def webhook_signature(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _send_console(*, phone: str, tenant_slug: str, code: str) -> None:
    if not settings.OTP_CONSOLE_ALLOWED:
        logger.error("OTP_SENDER=console refuses to write codes to the log with DEBUG off; "
                     "set OTP_SENDER=webhook or msg91 (or OTP_CONSOLE_ALLOWED=true).")
        raise SenderUnavailable()
    logger.warning("One-time code for %s (tenant %s): %s  [console sender, development only]",
                   phone, tenant_slug, code)


def _send_webhook(*, phone: str, tenant_slug: str, code: str) -> None:
    url, secret = settings.OTP_WEBHOOK_URL, settings.OTP_WEBHOOK_SECRET
    if not url or not secret:
        logger.error("OTP_SENDER=webhook needs OTP_WEBHOOK_URL and OTP_WEBHOOK_SECRET.")
        raise SenderUnavailable()
    body = webhook_body(phone=phone, tenant_slug=tenant_slug, code=code)
    try:
        response = requests.post(url, data=body, timeout=settings.OTP_SEND_TIMEOUT, headers={
            "Content-Type": "application/json", SIGNATURE_HEADER: webhook_signature(body, secret)})
    except requests.RequestException as exc:
        logger.warning("OTP webhook to %s failed for %s: %s", _host(url), phone_masked(phone),
                       type(exc).__name__)
        raise DeliveryFailed() from exc
    if not 200 <= response.status_code < 300:
        logger.warning("OTP webhook to %s answered %s for %s", _host(url), response.status_code,
                       phone_masked(phone))
        raise DeliveryFailed()
    logger.info("OTP sent by webhook to %s", phone_masked(phone))


def _send_msg91(*, phone: str, tenant_slug: str, code: str) -> None:
    auth_key, template_id = settings.MSG91_AUTH_KEY, settings.MSG91_TEMPLATE_ID
    if not auth_key or not template_id:
        logger.error("OTP_SENDER=msg91 needs MSG91_AUTH_KEY and MSG91_TEMPLATE_ID.")
        raise SenderUnavailable()
    url = settings.MSG91_BASE_URL.rstrip("/") + "/api/v5/otp"
    params = {"template_id": template_id, "mobile": phone.lstrip("+"), "otp": code,
              "otp_length": str(len(code)), "otp_expiry": "5"}
    try:
        response = requests.post(url, params=params, json={}, timeout=settings.OTP_SEND_TIMEOUT,
                                 headers={"authkey": auth_key, "accept": "application/json"})
        answer = response.json()
    except (requests.RequestException, ValueError) as exc:
        logger.warning("MSG91 call failed for %s: %s", phone_masked(phone), type(exc).__name__)
        raise DeliveryFailed() from exc
    if not 200 <= response.status_code < 300 or not isinstance(answer, dict) or answer.get("type") != "success":
        message = answer.get("message") if isinstance(answer, dict) else None
        logger.warning("MSG91 refused the OTP for %s: HTTP %s, %s", phone_masked(phone),
                       response.status_code, str(message)[:200])
        raise DeliveryFailed()
    logger.info("OTP sent by MSG91 to %s (request %s)", phone_masked(phone), answer.get("request_id"))


def _host(url: str) -> str:
    return urlsplit(url).netloc or "?"


_BY_NAME: dict[str, Callable[..., None]] = {CONSOLE: _send_console, WEBHOOK: _send_webhook,
                                            MSG91: _send_msg91}


def code_send(*, phone: str, tenant_slug: str, code: str) -> None:
    """Deliver `code` to `phone` (E.164) by the configured sender; raises DeliveryFailed (502) or
    SenderUnavailable (503)."""
    sender = _BY_NAME.get((settings.OTP_SENDER or "").strip().lower())
    if sender is None:
        logger.error("Unknown OTP_SENDER %r; expected one of %s.", settings.OTP_SENDER, ", ".join(SENDERS))
        raise SenderUnavailable()
    sender(phone=phone, tenant_slug=tenant_slug, code=code)
