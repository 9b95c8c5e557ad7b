"""Citizens prove they hold a number with an SMS code; the app then gets a bearer token.

Only hashes are stored (codes and tokens). Sending is rate-limited per number and per address,
and a code dies after VERIFY_CODE_MAX_ATTEMPTS wrong tries.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import NoReturn

from django.conf import settings
from django.db.models import F
from django.utils import timezone
from django.utils.crypto import salted_hmac

from tickets.core.models import Ticket
from tickets.core.text import normalise_phone
from tickets.errors import InvalidInput, NotFound, RateLimited
from tickets.intake.models import CitizenSession, VerificationCode
from tickets.intake.services import ratelimit
from tickets.messaging.models import SmsPurpose
from tickets.messaging.services import sms

WRONG_CODE = "验证码错误或已过期"


def _code_hash(phone: str, code: str) -> str:
    return salted_hmac("tickets.verification-code", f"{phone}:{code}").hexdigest()


def _mobile(raw: str) -> str:
    phone = normalise_phone(raw, field="phone")
    return phone


def code_send(*, phone: str, client_ip: str = "") -> str:
    """Send a 6-digit code to the number; returns the number in E.164."""
    phone = _mobile(phone)
    now = timezone.now()
    resend = timedelta(seconds=settings.VERIFY_CODE_RESEND_SECONDS)
    if VerificationCode.objects.filter(phone=phone, created_at__gt=now - resend).exists():
        raise RateLimited(f"验证码已发送，请{settings.VERIFY_CODE_RESEND_SECONDS}秒后再试", rule="code_resend")
    ratelimit.check("vcode-ip", client_ip, settings.VERIFY_CODE_LIMIT_PER_IP, "获取验证码过于频繁，请稍后再试")
    ratelimit.check("vcode-phone", phone, settings.VERIFY_CODE_LIMIT_PER_PHONE, "获取验证码过于频繁，请稍后再试")
    if sms.opted_out(phone):
        raise InvalidInput(
            "该号码已退订12345短信，请先发送“KT”到本热线短信号码恢复通知", field="phone", rule="opted_out"
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    VerificationCode.objects.create(
        phone=phone,
        code_hash=_code_hash(phone, code),
        expires_at=now + timedelta(seconds=settings.VERIFY_CODE_TTL_SECONDS),
    )
    minutes = settings.VERIFY_CODE_TTL_SECONDS // 60
    sms.sms_enqueue(
        to=phone,
        body=f"【12345热线】您的验证码是{code}，{minutes}分钟内有效，请勿告诉他人。",
        purpose=SmsPurpose.VERIFICATION,
    )
    return phone


def code_verify(*, phone: str, code: str) -> str:
    """Check the code (each code works once). Not atomic on purpose: a wrong try must be counted
    even though the caller sees an error."""
    phone = _mobile(phone)
    code = (code or "").strip()
    row = (
        VerificationCode.objects.filter(phone=phone, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-id")
        .first()
    )
    if row is None or not code.isdigit():
        raise InvalidInput(WRONG_CODE, field="code", rule="code")
    if row.attempts >= settings.VERIFY_CODE_MAX_ATTEMPTS:
        raise InvalidInput("验证码错误次数过多，请重新获取", field="code", rule="code_attempts")
    if not hmac.compare_digest(row.code_hash, _code_hash(phone, code)):
        VerificationCode.objects.filter(pk=row.pk).update(attempts=F("attempts") + 1)
        raise InvalidInput(WRONG_CODE, field="code", rule="code")
    if not VerificationCode.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=timezone.now()):
        raise InvalidInput(WRONG_CODE, field="code", rule="code")  # used by a concurrent request
    return phone


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def session_create(*, phone: str) -> tuple[str, CitizenSession]:
    """A bearer token for the app; only its hash is stored."""
    key = secrets.token_urlsafe(32)
    session = CitizenSession.objects.create(
        key_hash=_key_hash(key), phone=phone, expires_at=timezone.now() + settings.CITIZEN_TOKEN_TTL
    )
    return key, session


def session_for_key(key: str) -> CitizenSession | None:
    if not key:
        return None
    return CitizenSession.objects.filter(key_hash=_key_hash(key), revoked=False, expires_at__gt=timezone.now()).first()


LOOKUP_MISS = "未找到匹配的工单，请核对工单号和手机号后四位"


def ticket_lookup(*, number: str, last4: str, client_ip: str = "") -> Ticket:
    """Status page: the ticket number plus the last 4 digits of the phone it was filed from.

    The same answer for "no such ticket" and "wrong digits", and attempts are limited per
    address and, for wrong answers, per ticket number from one address (a stranger's guesses lock
    out the stranger, not the owner) and per ticket number from all addresses together (a looser
    ceiling against guessing from many), so numbers cannot be enumerated or digits guessed. A
    right answer costs the ticket number nothing: its owner may look as often as the address
    limit allows.
    """
    ip_limit = settings.STATUS_LOOKUP_LIMIT_PER_IP
    pair_limit, number_limit = settings.STATUS_LOOKUP_LIMIT_PER_NUMBER_IP, settings.STATUS_LOOKUP_LIMIT_PER_NUMBER
    ratelimit.check("lookup-ip", client_ip, ip_limit, _too_often(ip_limit))
    number = (number or "").strip()
    last4 = (last4 or "").strip()
    pair = f"{number}|{client_ip}"
    if ratelimit.exceeded("lookup-number-ip", pair, pair_limit):
        raise RateLimited(_too_often(pair_limit), rule="rate_limited:lookup-number")
    if ratelimit.exceeded("lookup-number", number, number_limit):
        raise RateLimited(_too_often(number_limit), rule="rate_limited:lookup-number")
    if not (number.isdigit() and len(number) <= 20 and len(last4) == 4 and last4.isdigit()):
        _lookup_missed(number, pair)
    ticket = Ticket.objects.select_related("lead_unit").filter(number=number).first()
    if ticket is None or not ticket.citizen_phone or not hmac.compare_digest(ticket.citizen_phone[-4:], last4):
        _lookup_missed(number, pair)
    return ticket


def _lookup_missed(number: str, pair: str) -> NoReturn:
    ratelimit.hit("lookup-number-ip", pair, settings.STATUS_LOOKUP_LIMIT_PER_NUMBER_IP)
    ratelimit.hit("lookup-number", number, settings.STATUS_LOOKUP_LIMIT_PER_NUMBER)
    raise NotFound(LOOKUP_MISS, rule="lookup")


def _too_often(limit: tuple[int, int]) -> str:
    seconds = limit[1]
    wait = f"{max(1, round(seconds / 60))} 分钟" if seconds < 7200 else f"{round(seconds / 3600)} 小时"
    return f"查询过于频繁，请 {wait}后再试，或拨打12345热线查询"
