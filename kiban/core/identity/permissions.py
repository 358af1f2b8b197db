"""Roles per business area and the permissions they grant. Deny by default: a permission not granted is refused.

Least privilege follows 番号法 (行政手続における特定の個人を識別するための番号の利用等に関する法律) 第9条・第19条:
My Number may be used only for the 事務 listed in its 別表, so reading it is a permission of its own, and every role
that can reach My Number or move money needs a second factor (TOTP).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

PLATFORM = "000000"
"""Pseudo tenant code of the platform itself (national operators' home, platform-wide audit chain).
It is not a 全国地方公共団体コード: its check digit is wrong (000001 would be valid), so it can never collide."""


class Permission(StrEnum):
    PUBLIC = "public"
    """No sign-in needed (health, login page, static files). Declared explicitly like every other permission."""
    SIGNED_IN = "signed_in"
    """Any signed-in staff user (home page, own account)."""
    REGISTRY_READ = "registry.read"
    REGISTRY_WRITE = "registry.write"
    MY_NUMBER_READ = "my_number.read"
    TAX_READ = "tax.read"
    TAX_WRITE = "tax.write"
    WELFARE_READ = "welfare.read"
    WELFARE_WRITE = "welfare.write"
    CHILDCARE_READ = "childcare.read"
    CHILDCARE_WRITE = "childcare.write"
    SCHOOL_READ = "school.read"
    SCHOOL_WRITE = "school.write"
    CARE_READ = "care.read"
    CARE_WRITE = "care.write"
    PAYMENT_MAKE = "payment.make"
    PAYMENT_APPROVE = "payment.approve"
    AUDIT_READ = "audit.read"
    PARAMETERS_READ = "parameters.read"
    PARAMETERS_WRITE = "parameters.write"
    USERS_MANAGE = "users.manage"
    TENANTS_OPERATE = "tenants.operate"


class Role(StrEnum):
    REGISTRY = "registry"
    TAX = "tax"
    WELFARE = "welfare"
    CHILDCARE = "childcare"
    SCHOOL = "school"
    CARE = "care"
    PAYMENT_MAKER = "payment_maker"
    PAYMENT_CHECKER = "payment_checker"
    AUDITOR = "auditor"
    TENANT_ADMIN = "tenant_admin"
    NATIONAL_OPERATOR = "national_operator"


@dataclass(frozen=True)
class RoleSpec:
    label: str
    """Japanese name shown in the UI."""
    permissions: frozenset[Permission]
    second_factor: bool
    """TOTP required: the role touches My Number or payments."""
    national: bool = False
    """Held by platform operators (home tenant PLATFORM), never by municipal staff."""
    areas: tuple[str, ...] = field(default=())
    """Navigation areas the role sees in the staff UI."""


P = Permission
ROLES: dict[Role, RoleSpec] = {
    Role.REGISTRY: RoleSpec(
        "住民記録担当", frozenset({P.REGISTRY_READ, P.REGISTRY_WRITE, P.MY_NUMBER_READ}), True, areas=("registry",)
    ),
    Role.TAX: RoleSpec(
        "税務担当", frozenset({P.TAX_READ, P.TAX_WRITE, P.REGISTRY_READ, P.MY_NUMBER_READ}), True, areas=("tax",)
    ),
    Role.WELFARE: RoleSpec(
        "福祉・給付担当",
        frozenset({P.WELFARE_READ, P.WELFARE_WRITE, P.REGISTRY_READ, P.TAX_READ}),
        True,
        areas=("benefits",),
    ),
    Role.CHILDCARE: RoleSpec(
        "保育担当", frozenset({P.CHILDCARE_READ, P.CHILDCARE_WRITE, P.REGISTRY_READ}), False, areas=("childcare",)
    ),
    Role.SCHOOL: RoleSpec(
        "教育委員会（学務）", frozenset({P.SCHOOL_READ, P.SCHOOL_WRITE, P.REGISTRY_READ}), False, areas=("school",)
    ),
    Role.CARE: RoleSpec(
        "介護保険担当", frozenset({P.CARE_READ, P.CARE_WRITE, P.REGISTRY_READ, P.TAX_READ}), False, areas=("care",)
    ),
    Role.PAYMENT_MAKER: RoleSpec("支払起票者", frozenset({P.PAYMENT_MAKE, P.WELFARE_READ}), True, areas=("payments",)),
    Role.PAYMENT_CHECKER: RoleSpec(
        "支払承認者", frozenset({P.PAYMENT_APPROVE, P.WELFARE_READ}), True, areas=("payments",)
    ),
    Role.AUDITOR: RoleSpec("監査担当", frozenset({P.AUDIT_READ, P.PARAMETERS_READ}), False, areas=("audit",)),
    Role.TENANT_ADMIN: RoleSpec(
        "団体管理者",
        frozenset({P.USERS_MANAGE, P.PARAMETERS_READ, P.PARAMETERS_WRITE}),
        False,
        areas=("admin", "parameters"),
    ),
    Role.NATIONAL_OPERATOR: RoleSpec(
        "国・基盤運用者",
        frozenset({P.TENANTS_OPERATE, P.PARAMETERS_READ}),
        True,
        national=True,
        areas=("tenants", "parameters"),
    ),
}


def permissions_of(roles: frozenset[Role]) -> frozenset[Permission]:
    granted: set[Permission] = {Permission.SIGNED_IN}
    for role in roles:
        granted |= ROLES[role].permissions
    return frozenset(granted)


def missing_permission_message(permission: Permission) -> str:
    """Japanese refusal naming the permission and the roles that grant it, so the user knows whom to ask."""
    roles = "・".join(spec.label for spec in ROLES.values() if permission in spec.permissions)
    granted_by = f"（{roles}の役割）" if roles else ""
    return f"この操作には権限「{permission.value}」{granted_by}が必要です。"


def needs_second_factor(roles: frozenset[Role]) -> bool:
    return any(ROLES[r].second_factor for r in roles)


@dataclass(frozen=True)
class Principal:
    """Who is acting: a staff user through a web session, or a system through an API token."""

    user_id: str
    """Pseudonymous account id (never a name or a My Number); it is what the audit log records."""
    display_name: str
    home_lg_code: str
    """The user's municipality, or PLATFORM for national operators."""
    lg_code: str
    """The tenant this request acts on (equals home_lg_code for municipal staff)."""
    roles: frozenset[Role]
    permissions: frozenset[Permission]
    via: str = "session"
    """"session" (browser), "token" (system-to-system; permissions are the token's scopes) or "cli" (the ``kiban``
    command run on the server; permissions are what the command needs)."""

    def can(self, permission: Permission) -> bool:
        return permission is Permission.PUBLIC or permission in self.permissions
