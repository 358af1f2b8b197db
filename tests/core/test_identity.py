"""Staff accounts: argon2 passwords, lockout, TOTP for My Number and payment roles, scoped API tokens."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import func, select

from kiban.core.errors import InputError, PermissionDenied
from kiban.core.identity import service
from kiban.core.identity.models import ApiToken, StaffUser
from kiban.core.identity.permissions import PLATFORM, Permission, Role

from conftest import TestDatabase

CHIYODA = "131016"
SAPPORO = "011002"
PASSWORD = "correct horse battery"


def _user(tdb: TestDatabase, lg_code: str, user_id: str, roles: frozenset[Role]) -> service.NewUser:
    with tdb.app.tenant(lg_code) as s:
        return service.create_user(s, user_id=user_id, display_name="試験 太郎", password=PASSWORD, roles=roles)


def test_password_is_hashed_with_argon2_and_sign_in_opens_a_session(db: TestDatabase) -> None:
    created = _user(db, CHIYODA, "school1", frozenset({Role.SCHOOL}))
    assert created.totp_secret is None
    with db.app.tenant(CHIYODA) as s:
        stored = s.scalars(select(StaffUser)).one()
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash
        result = service.sign_in(s, user_id="school1", password=PASSWORD)
    assert not result.needs_second_factor
    parsed = service.split_cookie(result.cookie)
    assert parsed is not None
    assert parsed[0] == CHIYODA
    with db.app.tenant(CHIYODA) as s:
        principal = service.principal_for_session(s, secret=parsed[1])
        assert principal is not None
        assert principal.can(Permission.SCHOOL_WRITE)
        assert not principal.can(Permission.MY_NUMBER_READ)
        service.sign_out(s, secret=parsed[1])
    with db.app.tenant(CHIYODA) as s:
        assert service.principal_for_session(s, secret=parsed[1]) is None


def test_wrong_password_locks_after_five_failures(db: TestDatabase) -> None:
    _user(db, CHIYODA, "clerk", frozenset({Role.CHILDCARE}))
    for _ in range(5):
        with db.app.tenant(CHIYODA) as s, pytest.raises(PermissionDenied, match="正しくありません"):
            service.sign_in(s, user_id="clerk", password="wrong password!!")
    with db.app.tenant(CHIYODA) as s, pytest.raises(PermissionDenied, match="ロック"):
        service.sign_in(s, user_id="clerk", password=PASSWORD)


def test_my_number_roles_need_a_totp_code(db: TestDatabase) -> None:
    created = _user(db, CHIYODA, "registry1", frozenset({Role.REGISTRY}))
    assert created.totp_secret is not None
    assert created.totp_uri is not None
    with db.app.tenant(CHIYODA) as s:
        result = service.sign_in(s, user_id="registry1", password=PASSWORD)
    assert result.needs_second_factor
    secret = result.cookie.split(".", 1)[1]
    with db.app.tenant(CHIYODA) as s:
        assert service.principal_for_session(s, secret=secret) is None
        with pytest.raises(InputError, match="確認コード"):
            service.confirm_second_factor(s, secret=secret, code="12345")
    with db.app.tenant(CHIYODA) as s:
        service.confirm_second_factor(s, secret=secret, code=pyotp.TOTP(created.totp_secret).now())
    with db.app.tenant(CHIYODA) as s:
        principal = service.principal_for_session(s, secret=secret)
        assert principal is not None
        assert principal.can(Permission.MY_NUMBER_READ)


def test_sessions_do_not_cross_tenants(db: TestDatabase) -> None:
    _user(db, CHIYODA, "same-id", frozenset({Role.SCHOOL}))
    with db.app.tenant(CHIYODA) as s:
        cookie = service.sign_in(s, user_id="same-id", password=PASSWORD).cookie
    secret = cookie.split(".", 1)[1]
    with db.app.tenant(SAPPORO) as s:
        assert service.principal_for_session(s, secret=secret) is None
        with pytest.raises(PermissionDenied):
            service.sign_in(s, user_id="same-id", password=PASSWORD)


def test_national_roles_only_on_the_platform(db: TestDatabase) -> None:
    with pytest.raises(InputError, match="国・基盤運用者"):
        _user(db, CHIYODA, "op", frozenset({Role.NATIONAL_OPERATOR}))
    created = _user(db, PLATFORM, "op", frozenset({Role.NATIONAL_OPERATOR}))
    assert created.user.lg_code == PLATFORM


def test_api_tokens_are_scoped_to_the_issuers_permissions(db: TestDatabase) -> None:
    _user(db, CHIYODA, "admin", frozenset({Role.TENANT_ADMIN}))
    with db.app.tenant(CHIYODA) as s:
        admin = service.principal_of(s, s.get_one(StaffUser, (CHIYODA, "admin")))
        with pytest.raises(InputError, match="ご自身が持つ権限"):
            service.issue_api_token(s, actor=admin, name="連携", scopes=frozenset({Permission.MY_NUMBER_READ}))
        issued = service.issue_api_token(s, actor=admin, name="連携", scopes=frozenset({Permission.PARAMETERS_READ}))
    assert issued.token.startswith(f"kbn_{CHIYODA}_")
    with db.app.tenant(CHIYODA) as s:
        system = service.principal_for_token(s, token=issued.token)
        assert system is not None
        assert system.via == "token"
        assert system.permissions == frozenset({Permission.PARAMETERS_READ})
        assert service.principal_for_token(s, token=issued.token[:-1] + "x") is None
    with db.app.tenant(SAPPORO) as s:
        assert service.principal_for_token(s, token=issued.token) is None


def test_bad_user_input_is_explained(db: TestDatabase) -> None:
    with db.app.tenant(CHIYODA) as s, pytest.raises(InputError) as caught:
        service.create_user(s, user_id="山田", display_name=" ", password="short", roles=frozenset({Role.TAX}))
    fields = {e.field for e in caught.value.errors}
    assert fields == {"ユーザーID", "氏名", "パスワード"}


def test_only_tenant_admins_issue_tokens_and_refusals_are_audited(db: TestDatabase) -> None:
    from kiban.core.audit.service import entries

    _user(db, CHIYODA, "school", frozenset({Role.SCHOOL}))
    with db.app.tenant(CHIYODA) as s:
        clerk = service.principal_of(s, s.get_one(StaffUser, (CHIYODA, "school")))
    with db.app.tenant(CHIYODA) as s, pytest.raises(PermissionDenied, match="団体管理者"):
        service.issue_api_token(s, actor=clerk, name="連携", scopes=frozenset({Permission.SCHOOL_READ}))
    with db.app.tenant(CHIYODA) as s:
        assert [(e.actor, e.outcome) for e in entries(s, lg_code=CHIYODA)] == [("school", "denied")]
        assert s.scalar(select(func.count()).select_from(ApiToken)) == 0
