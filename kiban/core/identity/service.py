"""Staff accounts, sign-in and tokens. Verbs: ``create_user``, ``sign_in``, ``confirm_second_factor``,
``principal_for_session``, ``sign_out``, ``issue_api_token``, ``principal_for_token``.

Sessions and tokens carry their tenant in clear (``<lg_code>.<secret>``, ``kbn_<lg_code>_<secret>``) because the
lookup itself must run inside that tenant's row-level security; only a hash of the secret is stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy import select

from kiban.core.audit.service import authorize
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError, PermissionDenied
from kiban.core.identifiers import is_valid_lg_code
from kiban.core.identity.models import ApiToken, StaffRole, StaffUser, WebSession
from kiban.core.identity.passwords import DUMMY_HASH, hash_password, policy_error, verify_password
from kiban.core.identity.permissions import (
    PLATFORM,
    ROLES,
    Permission,
    Principal,
    Role,
    needs_second_factor,
    permissions_of,
)

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
TOTP_ISSUER = "Kiban"


def _now() -> datetime:
    return datetime.now(UTC)


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; everything Kiban stores is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _tenant_of(db_session: TenantSession) -> str:
    if db_session.lg_code is None:
        raise PermissionDenied("団体が指定されていません。")
    return db_session.lg_code


@dataclass(frozen=True)
class NewUser:
    user: StaffUser
    totp_secret: str | None
    """Shown once, to enrol an authenticator app; None when the roles need no second factor."""

    @property
    def totp_uri(self) -> str | None:
        if self.totp_secret is None:
            return None
        name = f"{self.user.user_id}@{self.user.lg_code}"
        return pyotp.TOTP(self.totp_secret).provisioning_uri(name=name, issuer_name=TOTP_ISSUER)


def create_user(
    db_session: TenantSession, *, user_id: str, display_name: str, password: str, roles: frozenset[Role]
) -> NewUser:
    """Create a staff account in the session's tenant. National roles exist only in the PLATFORM tenant."""
    lg_code = _tenant_of(db_session)
    errors: list[FieldError] = []
    if not user_id.isascii() or not user_id.replace("-", "").replace("_", "").replace(".", "").isalnum():
        errors.append(FieldError("ユーザーID", user_id, "半角英数字と - _ . で入力してください。"))
    if not display_name.strip():
        errors.append(FieldError("氏名", display_name, "入力してください。"))
    for role in roles:
        if ROLES[role].national != (lg_code == PLATFORM):
            errors.append(
                FieldError("役割", ROLES[role].label, "国・基盤運用者の役割は基盤の運用団体の利用者だけが持てます。")
            )
    if (weak := policy_error(password)) is not None:
        errors.append(weak)
    if db_session.get(StaffUser, (lg_code, user_id)) is not None:
        errors.append(FieldError("ユーザーID", user_id, "既に使われています。別のIDを指定してください。"))
    if errors:
        raise InputError(*errors)
    secret = pyotp.random_base32() if needs_second_factor(roles) else None
    user = StaffUser(
        lg_code=lg_code,
        user_id=user_id,
        display_name=display_name.strip(),
        password_hash=hash_password(password),
        totp_secret=secret,
        active=True,
        failed_logins=0,
        created_at=_now(),
    )
    db_session.add(user)
    db_session.flush()
    db_session.add_all(StaffRole(lg_code=lg_code, user_id=user_id, role=role.value) for role in sorted(roles))
    db_session.flush()
    return NewUser(user, secret)


def roles_of(db_session: TenantSession, user_id: str) -> frozenset[Role]:
    names = db_session.scalars(select(StaffRole.role).where(StaffRole.user_id == user_id))
    known = {r.value for r in Role}
    return frozenset(Role(n) for n in names if n in known)


def principal_of(db_session: TenantSession, user: StaffUser) -> Principal:
    roles = roles_of(db_session, user.user_id)
    return Principal(
        user_id=user.user_id,
        display_name=user.display_name,
        home_lg_code=user.lg_code,
        lg_code=user.lg_code,
        roles=roles,
        permissions=permissions_of(roles),
    )


@dataclass(frozen=True)
class SignIn:
    cookie: str
    """``<lg_code>.<secret>`` for the session cookie."""
    needs_second_factor: bool


SIGN_IN_FAILED = "団体コード、ユーザーID、パスワードのいずれかが正しくありません。"


def sign_in(db_session: TenantSession, *, user_id: str, password: str) -> SignIn:
    """Check the password; on success open a session (pending its second factor when the roles need one).

    Five failures lock the account for 15 minutes. The message never says which of the three was wrong.
    """
    lg_code = _tenant_of(db_session)
    user = db_session.get(StaffUser, (lg_code, user_id))
    if user is None or not user.active:
        verify_password(DUMMY_HASH, password)
        raise PermissionDenied(SIGN_IN_FAILED)
    if user.locked_until is not None and _aware(user.locked_until) > _now():
        raise PermissionDenied("ログインの失敗が続いたため、しばらくロックしています。15分後にもう一度お試しください。")
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = _now() + LOCKOUT
            user.failed_logins = 0
        db_session.flush()
        raise PermissionDenied(SIGN_IN_FAILED)
    user.failed_logins = 0
    user.locked_until = None
    pending = needs_second_factor(roles_of(db_session, user_id))
    secret = secrets.token_urlsafe(32)
    now = _now()
    db_session.add(
        WebSession(
            lg_code=lg_code,
            token_hash=_sha256(secret),
            user_id=user_id,
            second_factor_done=not pending,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
            revoked=False,
        )
    )
    db_session.flush()
    return SignIn(cookie=f"{lg_code}.{secret}", needs_second_factor=pending)


def split_cookie(cookie: str) -> tuple[str, str] | None:
    """``(lg_code, secret)`` of a well-formed session cookie, else None."""
    lg_code, _, secret = cookie.partition(".")
    if not secret or not (is_valid_lg_code(lg_code) or lg_code == PLATFORM):
        return None
    return lg_code, secret


def _live_session(db_session: TenantSession, secret: str) -> WebSession | None:
    row = db_session.get(WebSession, (_tenant_of(db_session), _sha256(secret)))
    if row is None or row.revoked or _aware(row.expires_at) <= _now():
        return None
    return row


def confirm_second_factor(db_session: TenantSession, *, secret: str, code: str) -> None:
    """Complete a pending session with a TOTP code (RFC 6238, one step of clock drift allowed)."""
    row = _live_session(db_session, secret)
    if row is None:
        raise PermissionDenied("ログインの有効期限が切れました。もう一度ログインしてください。")
    user = db_session.get(StaffUser, (row.lg_code, row.user_id))
    digits = code.strip().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if user is None or user.totp_secret is None or not pyotp.TOTP(user.totp_secret).verify(digits, valid_window=1):
        raise InputError(FieldError("確認コード", digits, "認証アプリに表示されている6桁の数字を入力してください。"))
    row.second_factor_done = True
    db_session.flush()


def principal_for_session(db_session: TenantSession, *, secret: str) -> Principal | None:
    """The signed-in user of a fully authenticated session, else None."""
    row = _live_session(db_session, secret)
    if row is None or not row.second_factor_done:
        return None
    user = db_session.get(StaffUser, (row.lg_code, row.user_id))
    if user is None or not user.active:
        return None
    return principal_of(db_session, user)


def session_pending_second_factor(db_session: TenantSession, *, secret: str) -> bool:
    row = _live_session(db_session, secret)
    return row is not None and not row.second_factor_done


def sign_out(db_session: TenantSession, *, secret: str) -> None:
    row = db_session.get(WebSession, (_tenant_of(db_session), _sha256(secret)))
    if row is not None:
        row.revoked = True
        db_session.flush()


# --- API tokens ---------------------------------------------------------------------------------------------------

TOKEN_PREFIX = "kbn"  # noqa: S105 (a prefix, not a secret)


@dataclass(frozen=True)
class IssuedToken:
    token_id: str
    token: str
    """Shown once; only its hash is stored."""


def issue_api_token(
    db_session: TenantSession, *, actor: Principal, name: str, scopes: frozenset[Permission], days: int = 90
) -> IssuedToken:
    """A token for a system acting on the actor's tenant, with at most the actor's own permissions."""
    lg_code = authorize(
        db_session, actor=actor, permission=Permission.USERS_MANAGE, action="identity.token.issue", purpose="職員管理"
    )
    excess = sorted(scope.value for scope in scopes if not actor.can(scope) or scope is Permission.PUBLIC)
    if excess:
        raise InputError(FieldError("権限", " ".join(excess), "ご自身が持つ権限の範囲で指定してください。"))
    if not 1 <= days <= 366:
        raise InputError(FieldError("有効日数", str(days), "1日から366日の間で指定してください。"))
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    token = f"{TOKEN_PREFIX}_{lg_code}_{token_id}_{secret}"
    now = _now()
    db_session.add(
        ApiToken(
            lg_code=lg_code,
            token_id=token_id,
            token_hash=_sha256(token),
            name=name,
            scopes=" ".join(sorted(s.value for s in scopes)),
            created_by=actor.user_id,
            created_at=now,
            expires_at=now + timedelta(days=days),
            revoked=False,
        )
    )
    db_session.flush()
    return IssuedToken(token_id, token)


def split_token(token: str) -> tuple[str, str] | None:
    """``(lg_code, token_id)`` of a well-formed API token, else None."""
    parts = token.split("_", 3)
    if len(parts) != 4 or parts[0] != TOKEN_PREFIX or not (is_valid_lg_code(parts[1]) or parts[1] == PLATFORM):
        return None
    return parts[1], parts[2]


def principal_for_token(db_session: TenantSession, *, token: str) -> Principal | None:
    parsed = split_token(token)
    if parsed is None or parsed[0] != db_session.lg_code:
        return None
    row = db_session.get(ApiToken, parsed)
    if row is None or row.revoked or _aware(row.expires_at) <= _now():
        return None
    if not secrets.compare_digest(row.token_hash, _sha256(token)):
        return None
    scopes = frozenset(Permission(s) for s in row.scopes.split())
    return Principal(
        user_id=f"token:{row.token_id}",
        display_name=row.name,
        home_lg_code=row.lg_code,
        lg_code=row.lg_code,
        roles=frozenset(),
        permissions=scopes,
        via="token",
    )
