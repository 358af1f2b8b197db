"""The national duplicate check (二重給付の防止): a person entitled in two municipalities for the same program — e.g.
moved around the base date and still on both registers — is found across tenants, and paid once, without either
municipality seeing anything of the other.

Each municipality registers, after its eligibility run, one claim per member of its entitled households (one bulk
statement, ``kiban.benefits.claims``), keyed by ``person_key``: an HMAC-SHA256 under the platform's blind-index key
(``KIBAN_BLIND_INDEX_KEY``, separated by context) of

* the 個人番号, when the register knows it — exact and the same in every municipality (the 転出証明書 hands it to the
  municipality of arrival, 住民基本台帳法施行令第23条); hashed from the register's keyed blind index, so no 個人番号 is
  decrypted, and the key cannot be joined back to ``person.my_number_index`` without the key;
* otherwise フリガナ (full-width katakana without spaces), 生年月日 and 性別. This fallback is weaker: namesakes
  born on the same day share it (the マイナ保険証 wrong links of 2023 came from matching on exactly these items),
  and a different spelling of the kana misses the match. A 前住所 would separate namesakes, but the register does
  not record a 転入前住所 for a paper 転出証明書, so it is not used; a ``basic`` match is therefore shown to staff
  as needing a check of identity (``Flag.key_label``).

Who pays is decided by the platform (the view ``benefit_claim_state``, migration ``0013_notices_claims``): a
municipality already paying the household; otherwise the most recent 住民となった日 (the later 転入 is the person's
住所 on the base date, 住民基本台帳法第22条; the other register is corrected by the 転入通知, 第9条第1項); on a tie
the first to confirm. A household of which a member is paid elsewhere becomes ``needs_review`` with
``DUPLICATE_REASON`` (so ``kiban.payments.service.create_batch``, which pays confirmed households only, leaves it
out; it also re-checks every household under a lock when it makes a batch, ``claims.stamp``). A municipality only
ever learns that its own person is claimed elsewhere too ("他の市区町村でも対象"), never where or by whom.

The check fails closed: a batch pays only a 受給単位 with as many registered claims as its entitled persons
(``Entitlement.members``). One some person of which the check has not seen — not held by the register on the base
date, so not keyed (``unkeyed``), or never registered — is left out and put on review with ``UNCHECKED_REASON``
until a later check registers every person (``register_claims`` then releases it). Two own persons sharing a key
(namesakes born the same day, no 個人番号 known) make one claim, so their household is held for staff too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import select

from kiban.benefits import claims
from kiban.benefits.models import CONFIRMED, ELIGIBLE, NEEDS_REVIEW, PAID, WITHDRAWN, Entitlement
from kiban.benefits.programs import Unit
from kiban.benefits.service import PURPOSE, is_frozen, lock_program, program_of
from kiban.core.audit.service import authorize, record
from kiban.core.crypto import blind_indexes
from kiban.core.db import TenantSession
from kiban.core.identity.permissions import Permission, Principal
from kiban.registry import snapshot
from kiban.registry.models import Person

PERSON_KEY = "benefits.claim"
"""Context of the ``person_key`` HMAC (separate from the register's own blind index)."""
DUPLICATE_REASON = (
    "他の市区町村でも給付の対象となっている方がいる世帯です（二重給付の防止）。基準日の住所がある市区町村が支給するため、"
    "この世帯は他団体で支給対象となりました。転出・転入の異動日を確認してください。"
)
"""``review_reason`` of a household held because another municipality pays (他団体で支給対象)."""
UNCHECKED_REASON = (
    "二重給付の確認（全国照合）が済んでいません。基準日の住民記録で確認できない世帯員がいるため、他の市区町村での"
    "給付の有無を照合できませんでした。住民記録を確認・訂正のうえ、対象者の判定をやり直してください。"
)
"""``review_reason`` of a household not paid because some entitled person has no registered claim (fail-closed)."""
STATE_LABELS = {
    claims.SINGLE: "",
    claims.PAYS: "他の市区町村でも対象（当団体が支給）",
    claims.OPEN: "他の市区町村でも対象（先に確認書を受け付けた団体が支給）",
    claims.BLOCKED: "他の市区町村でも対象（他団体で支給対象）",
}
KEY_LABELS = {"my_number": "個人番号で照合", "basic": "氏名フリガナ・生年月日・性別で照合（本人確認が必要）"}


@dataclass(frozen=True)
class CheckResult:
    program: str
    claims: int
    """Persons registered."""
    blocked: list[str] = field(default_factory=list)
    """Households put on review: another municipality pays."""
    released: list[str] = field(default_factory=list)
    """Households held by an earlier check that another municipality no longer pays, or held by a batch because
    some person was not registered (``UNCHECKED_REASON``) whose persons are all registered now."""
    held: list[str] = field(default_factory=list)
    """Households blocked but already in a payment batch or paid: a double payment to recover (返還), for staff."""
    shared: list[str] = field(default_factory=list)
    """Households claimed elsewhere too that this municipality pays, or may pay if it confirms first."""
    unkeyed: int = 0
    """Persons of entitled households given by the run that the register does not hold on the base date: without
    フリガナ, 生年月日 and 性別 (or a 個人番号) they cannot be keyed, so they are not registered."""


@dataclass(frozen=True)
class Flag:
    """One own person also claimed by another municipality (and nothing about that municipality)."""

    household_no: str
    person_no: str
    state: str
    key_kind: str

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def key_label(self) -> str:
        return KEY_LABELS[self.key_kind]


def person_keys(persons: pl.DataFrame) -> pl.Series:
    """``person_key`` of every row (``my_number_index`` or null, ``family_name_kana``, ``given_name_kana``,
    ``birth_date``, ``sex``): the HMAC of the 個人番号's blind index when known, else of the basic items. フリガナ are
    stored as full-width katakana by the register (``kiban.core.jtext``), so only spaces are removed here."""
    basic = pl.concat_str(
        pl.concat_str("family_name_kana", "given_name_kana").str.replace_all(r"[\s\u3000]", ""),
        pl.col("birth_date").cast(pl.Utf8),
        pl.col("sex"),
        separator="\0",
    )
    keyed = persons.select(
        pl.when(pl.col("my_number_index").is_not_null())
        .then(pl.concat_str(pl.lit("my_number\0"), pl.col("my_number_index")))
        .otherwise(pl.concat_str(pl.lit("basic\0"), basic))
    ).to_series()
    return pl.Series("person_key", blind_indexes(keyed.to_list(), context=PERSON_KEY), dtype=pl.Utf8)


def _entitlement_frame(db_session: TenantSession, program: str) -> pl.DataFrame:
    e = Entitlement
    rows = db_session.execute(
        select(e.household_no, e.status, e.confirmed_at, e.batch_no).where(e.program == program, e.status != WITHDRAWN)
    ).all()
    schema = {
        "household_no": pl.Utf8(),
        "status": pl.Utf8(),
        "confirmed_at": pl.Datetime("us", "UTC"),
        "batch_no": pl.Int64(),
    }
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def _my_number_indexes(db_session: TenantSession) -> pl.DataFrame:
    rows = db_session.execute(select(Person.person_no, Person.my_number_index)).all()
    return pl.DataFrame(
        [tuple(r) for r in rows], schema={"person_no": pl.Utf8(), "my_number_index": pl.Utf8()}, orient="row"
    )


def register_claims(
    db_session: TenantSession, *, actor: Principal, program_code: str, persons: pl.DataFrame | None = None
) -> CheckResult:
    """Register the persons of the program's entitled households (not withdrawn) with the national check, then put
    on review the households another municipality pays (and release those an earlier check held that are no longer
    blocked). The persons are the residents of those households on the base date or, from an eligibility run
    (``service.run_eligibility``), the run's own input ``persons`` (``person_no``, ``household_no``), keyed from the
    register; a person it does not hold on the base date cannot be keyed and is left out (``unkeyed``). Reads the
    register on the base date (``REGISTRY_READ``, audited there). Needs ``WELFARE_WRITE``; audited (counts and
    世帯番号 only)."""
    lg_code = authorize(
        db_session, actor=actor, permission=Permission.WELFARE_WRITE, action="benefits.national_check", purpose=PURPOSE
    )
    program = program_of(program_code)
    lock_program(db_session, lg_code, program.code)
    entitled = _entitlement_frame(db_session, program.code)
    residents = snapshot.residents(db_session, actor=actor, on=program.base_date)
    if program.unit == Unit.PERSON:
        # a person program's 受給単位 is the person: its entitlements hold the 宛名番号 as their unit number
        residents = residents.with_columns(pl.col("person_no").alias("household_no"))
        persons = None if persons is None else persons.with_columns(pl.col("person_no").alias("household_no"))
    unkeyed = 0
    if persons is not None:
        given = persons.select(pl.col("person_no").cast(pl.Utf8), pl.col("household_no").cast(pl.Utf8)).unique()
        given = given.join(entitled, on="household_no", how="semi")
        residents = given.join(residents.drop("household_no"), on="person_no", how="inner")
        unkeyed = given.height - residents.height
    members = (
        residents.join(entitled, on="household_no", how="inner")
        .join(_my_number_indexes(db_session), on="person_no", how="left")
        .sort("household_no", "person_no")
    )
    frame = members.with_columns(
        person_keys(members),
        pl.when(pl.col("my_number_index").is_not_null())
        .then(pl.lit("my_number"))
        .otherwise(pl.lit("basic"))
        .alias("key_kind"),
        pl.col("confirmed_at").cast(pl.Datetime("us", "UTC")),
        (pl.col("batch_no").is_not_null() | (pl.col("status") == PAID)).alias("paying"),
    )
    # one claim per key: two own persons with the same basic items (namesakes born the same day, no 個人番号 known)
    # share a key, and the first (by 世帯番号, 宛名番号) stands for both
    keyed = frame.unique(subset="person_key", keep="first", maintain_order=True)
    written = claims.register(db_session, program=program.code, claims=keyed)
    result = _apply(db_session, program.code, written, unkeyed)
    record(
        db_session,
        actor=actor,
        action="benefits.national_check",
        purpose=PURPOSE,
        detail={
            "program": program.code,
            "claims": written,
            "blocked": result.blocked,
            "released": result.released,
            "held": result.held,
            "shared": len(result.shared),
            "unkeyed": unkeyed,
            "same_key": frame.height - keyed.height,
        },
    )
    db_session.flush()
    return result


def _concerned(db_session: TenantSession, program: str, households: list[str]) -> list[Entitlement]:
    """The entitlements (not withdrawn, locked) of ``households`` and of those an earlier check or batch held."""
    e = Entitlement
    base = (
        select(e)
        .where(e.program == program, e.status != WITHDRAWN)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    held = base.where(e.review_reason.in_((DUPLICATE_REASON, UNCHECKED_REASON)))
    found = {x.household_no: x for x in db_session.scalars(held)}
    for start in range(0, len(households), claims.SQLITE_CHUNK):
        part = households[start : start + claims.SQLITE_CHUNK]
        found |= {x.household_no: x for x in db_session.scalars(base.where(e.household_no.in_(part)))}
    return [found[k] for k in sorted(found)]


def _apply(db_session: TenantSession, program: str, written: int, unkeyed: int) -> CheckResult:
    flagged = claims.states(db_session, program=program)
    by_household = claims.household_state([(s.household_no, s.state) for s in flagged])
    blocked: list[str] = []
    released: list[str] = []
    held: list[str] = []
    shared: list[str] = []
    concerned = _concerned(db_session, program, sorted(by_household))
    unchecked = [e.household_no for e in concerned if e.review_reason == UNCHECKED_REASON]
    registered = claims.registered(db_session, program=program, households=unchecked)
    for e in concerned:
        state = by_household.get(e.household_no, claims.SINGLE)
        if state == claims.BLOCKED:
            if is_frozen(e):
                held.append(e.household_no)
            elif e.review_reason in (None, UNCHECKED_REASON):  # another reason (an account) stays for staff
                e.status, e.review_reason = NEEDS_REVIEW, DUPLICATE_REASON
                blocked.append(e.household_no)
            continue
        if e.review_reason == UNCHECKED_REASON and registered.get(e.household_no, 0) < e.members:
            continue
        if e.review_reason in (DUPLICATE_REASON, UNCHECKED_REASON):
            e.status, e.review_reason = _status_without_hold(e), None
            released.append(e.household_no)
        if state in (claims.PAYS, claims.OPEN):
            shared.append(e.household_no)
    return CheckResult(program, written, blocked, released, held, shared, unkeyed)


def _status_without_hold(e: Entitlement) -> str:
    """What a released household's status is again: as the run computed it, confirmed if its account was given."""
    if e.needs_review or not e.eligible:
        return NEEDS_REVIEW
    return CONFIRMED if e.confirmed_at is not None and e.bank_code is not None else ELIGIBLE


def exclude_blocked(db_session: TenantSession, *, program: str, payable: list[Entitlement]) -> list[Entitlement]:
    """The part of ``payable`` (confirmed entitlements about to be put in a payment batch) that this municipality
    may pay: a household with fewer registered claims than entitled persons (``members``) is not checked and
    becomes ``needs_review`` (``UNCHECKED_REASON``, fail-closed); every other household is checked against the
    national claims under a lock and, if not blocked, stamped as paying (so a later claim elsewhere loses).
    Households paid elsewhere become ``needs_review`` (``DUPLICATE_REASON``); undecided ones (``open``) wait.
    Called by ``create_batch`` in its transaction."""
    registered = claims.registered(db_session, program=program, households=[e.household_no for e in payable])
    checked = []
    for e in payable:
        if registered.get(e.household_no, 0) < e.members:
            e.status, e.review_reason = NEEDS_REVIEW, UNCHECKED_REASON
        else:
            checked.append(e)
    states = claims.stamp(db_session, program=program, households=[e.household_no for e in checked], paying=True)
    kept = []
    for e in checked:
        state = states.get(e.household_no, claims.SINGLE)
        if state == claims.BLOCKED:
            e.status, e.review_reason = NEEDS_REVIEW, DUPLICATE_REASON
        elif state != claims.OPEN:
            kept.append(e)
    return kept


def household_state(flags: list[Flag]) -> str:
    """The state of one household from its flags: its worst person's (``claims.SEVERITY``), ``SINGLE`` when none."""
    return max((f.state for f in flags), key=claims.SEVERITY.__getitem__, default=claims.SINGLE)


def flags_of(
    db_session: TenantSession, *, actor: Principal, program_code: str, household_no: str | None = None
) -> list[Flag]:
    """The municipality's own persons of the program (of one household, or all) that another municipality claims
    too, with what that means for payment (never which municipality). Needs ``WELFARE_READ``; audited (a count)."""
    authorize(
        db_session,
        actor=actor,
        permission=Permission.WELFARE_READ,
        action="benefits.national_check.read",
        purpose=PURPOSE,
    )
    program = program_of(program_code)
    households = None if household_no is None else [household_no]
    found = [
        Flag(s.household_no, s.person_no, s.state, s.key_kind)
        for s in claims.states(db_session, program=program.code, households=households)
    ]
    record(
        db_session,
        actor=actor,
        action="benefits.national_check.read",
        purpose=PURPOSE,
        subject=household_no,
        detail={"program": program.code, "count": len(found)},
    )
    return found
