"""Entitlements stored: eligibility runs that change only what the facts changed, and confirmations of the account.

Verbs: ``run_eligibility`` (the batch over a program's residents), ``confirm`` (a household's 確認書 / 申請: the
account the benefit is paid to), ``clear_account_review`` (staff release a household held for its account),
``entitlement_of``, ``entitlements_of``, and for the staff pages
``program_summaries`` (households and amounts per stage, runs) and ``search_entitlements``.

A run is idempotent: the same residents and parameters change nothing. Changed facts produce a reviewable
difference (households added, changed and removed, with old and new amounts) and are applied to households that
are not being paid; a household with a line in a payment batch, or already paid, is never changed by a run — its
difference is returned as ``held`` for staff to review (寝屋川市 2020: payments decided on stale lists). Removed
households are ``withdrawn``, never deleted.

An account given for a household that is already the account of another, unrelated household of the same program
(another 受給権者: not the same person whose household was renumbered) is not paid: both households go to
``needs_review`` with the reason, until staff clear it (``clear_account_review``). The same check runs whoever
records the confirmation (the resident portal or staff keying a paper 確認書): one account collecting the benefit
of several households is the pattern of 代理受領 fraud and of accounts keyed against the wrong household.

Everything happens in the caller's transaction; every call is authorized and audited.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import polars as pl
from sqlalchemy import bindparam, func, select, text, update

from kiban.benefits import claims
from kiban.benefits.eligibility import computation, entitlements
from kiban.benefits.models import (
    CONFIRMED,
    ELIGIBLE,
    FAILED,
    NEEDS_REVIEW,
    PAID,
    STATUS_LABELS,
    WITHDRAWN,
    BenefitRun,
    Entitlement,
    new_confirmation_code,
)
from kiban.benefits.programs import PROGRAMS, Program, Unit
from kiban.benefits.rules import HOUSEHOLD_RESULTS
from kiban.core.audit.service import authorize, record, record_refusal
from kiban.core.banks import BANK, BRANCH, unknown_codes
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError, NotFound
from kiban.core.identity.permissions import Permission, Principal
from kiban.core.jtext import zengin_kana
from kiban.core.params.catalogue import ParamValue, default_catalogue, to_json
from kiban.tax.storage import insert_frame, read_frame

PURPOSE = "給付金の支給決定"
"""Purpose written on every audit entry of the benefits domain."""
COMPARED = ("recipient_no", *HOUSEHOLD_RESULTS)
"""What a run compares between the stored entitlement and the new computation."""
ACCOUNT_TYPES = {"1": "普通", "2": "当座", "4": "貯蓄", "9": "その他"}
ACCOUNT_COLUMNS = ("bank_code", "branch_code", "account_type", "account_number", "holder_kana")
"""An entitlement's columns holding its account, named as the fields of ``BankAccount``."""


@dataclass(frozen=True)
class BankAccount:
    """The account a benefit is paid to (given on the 確認書, or the 公金受取口座 the resident chose)."""

    bank_code: str
    branch_code: str
    account_type: str
    """1 普通, 2 当座, 4 貯蓄, 9 その他."""
    account_number: str
    holder_kana: str
    """口座名義 (kana); stored in 全銀 characters."""


@dataclass(frozen=True)
class Difference:
    """One household whose entitlement a run found different (amounts in yen; ``None``: none)."""

    household_no: str
    old_amount: int | None
    new_amount: int | None
    old_status: str | None
    new_status: str | None
    """The status after the run (for ``held``: the status it would have had; the stored one is unchanged)."""


@dataclass(frozen=True)
class RunResult:
    run_no: int
    program: str
    households: int
    """Households the computation found entitled or needing review."""
    added: list[Difference] = field(default_factory=list)
    changed: list[Difference] = field(default_factory=list)
    removed: list[Difference] = field(default_factory=list)
    held: list[Difference] = field(default_factory=list)
    """Differences not applied: the household is in a payment batch or paid. Staff review these (a correction
    after payment is a 返還 or 追加支給, never a silent change)."""

    @property
    def unchanged(self) -> bool:
        return not (self.added or self.changed or self.removed or self.held)


def program_of(code: str) -> Program:
    program = PROGRAMS.get(code)
    if program is None:
        raise InputError(FieldError("給付事業", code, f"次のいずれかを指定してください：{'、'.join(PROGRAMS)}。"))
    return program


def _advisory_lock(db_session: TenantSession, key: str) -> None:
    """PostgreSQL: a transaction-level advisory lock on ``key``. SQLite serializes writers by itself."""
    if db_session.connection().dialect.name == "postgresql":
        db_session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def lock_program(db_session: TenantSession, lg_code: str, program: str) -> None:
    """Work that numbers runs or batches of a program, or reads its entitlements to change them, queues per tenant and
    program."""
    _advisory_lock(db_session, f"benefits:{lg_code}:{program}")


def is_frozen(entitlement: Entitlement) -> bool:
    """In a payment batch (a pending or sent line) or paid: a run never changes it."""
    return entitlement.batch_no is not None or entitlement.status == PAID


def checked_account(account: BankAccount) -> BankAccount:
    """The account with its holder in 全銀 characters, its bank and branch in the 全銀協 code list
    (``kiban.core.banks``); every problem is reported at once, one per field."""
    errors: list[FieldError] = []
    malformed: set[str] = set()
    for label, value, width in (
        (BANK, account.bank_code, 4),
        (BRANCH, account.branch_code, 3),
        ("口座番号", account.account_number, 7),
    ):
        if not (value.isascii() and value.isdigit() and len(value) == width):
            errors.append(FieldError(label, value, f"{width}桁の半角数字で入力してください。"))
            malformed.add(label)
    if BANK not in malformed:
        errors[:0] = unknown_codes(account.bank_code, None if BRANCH in malformed else account.branch_code)
    if account.account_type not in ACCOUNT_TYPES:
        errors.append(
            FieldError("預金種目", account.account_type, "1（普通）・2（当座）・4（貯蓄）・9（その他）のいずれか。")
        )
    holder = account.holder_kana
    try:
        holder = zengin_kana(account.holder_kana, field="口座名義（カナ）")
    except InputError as exc:
        errors.extend(exc.errors)
    if len(holder) > 60:
        errors.append(FieldError("口座名義（カナ）", account.holder_kana, "60文字以内で入力してください。"))
    if errors:
        raise InputError(*errors)
    return BankAccount(account.bank_code, account.branch_code, account.account_type, account.account_number, holder)


def account_from(row: Mapping[str, Any]) -> BankAccount | None:
    """The account in an entitlement's ``ACCOUNT_COLUMNS`` (as ``set_account`` stores it); ``None`` while any part
    but the holder's name is missing."""
    if any(row[c] is None for c in ACCOUNT_COLUMNS[:4]):
        return None
    return BankAccount(
        row["bank_code"], row["branch_code"], row["account_type"], row["account_number"], row["holder_kana"] or ""
    )


def account_of(entitlement: Entitlement) -> BankAccount | None:
    return account_from({c: getattr(entitlement, c) for c in ACCOUNT_COLUMNS})


def set_account(entitlement: Entitlement, account: BankAccount | None) -> None:
    e = entitlement
    e.bank_code = account.bank_code if account else None
    e.branch_code = account.branch_code if account else None
    e.account_type = account.account_type if account else None
    e.account_number = account.account_number if account else None
    e.holder_kana = account.holder_kana if account else None


def _parameters_json(program: Program, parameters: Mapping[str, ParamValue]) -> str:
    catalogue = default_catalogue()
    used = computation(program, parameters)
    return json.dumps(
        {name: to_json(catalogue[name].type, value) for name, value in used.parameters.items()},
        ensure_ascii=False,
        sort_keys=True,
    )


def _units(computed: pl.DataFrame, program: Program) -> pl.DataFrame:
    """The entitlements as stored, one row per 受給単位: ``household_no`` (the unit: the 世帯番号, or for a person
    program the 宛名番号 of the person paid), ``recipient_no`` and ``HOUSEHOLD_RESULTS``. A person is a unit of one
    member with no こども加算 or 上乗せ: its whole amount is the base amount."""
    if program.unit == Unit.HOUSEHOLD:
        return computed
    return computed.select(
        pl.col("person_no").alias("household_no"),
        pl.col("person_no").alias("recipient_no"),
        pl.lit(1, dtype=pl.Int64).alias("members"),
        pl.lit(0, dtype=pl.Int64).alias("children"),
        "eligible",
        "needs_review",
        pl.col("amount").alias("base_amount"),
        pl.lit(0, dtype=pl.Int64).alias("child_addition"),
        pl.lit(0, dtype=pl.Int64).alias("top_up"),
        "amount",
    )


def _values(frame: pl.DataFrame) -> pl.DataFrame:
    """The computed units as stored: ``household_no`` and the ``COMPARED`` columns in the stored types, in the
    computation's order."""
    return frame.select(
        pl.col("household_no").cast(pl.Utf8),
        pl.col("recipient_no").cast(pl.Utf8),
        *(
            pl.col(name).cast(pl.Boolean if name in ("eligible", "needs_review") else pl.Int64)
            for name in HOUSEHOLD_RESULTS
        ),
    )


_STORED: dict[str, pl.DataType] = {
    "household_no": pl.Utf8(),
    "recipient_no": pl.Utf8(),
    **{name: pl.Boolean() if name in ("eligible", "needs_review") else pl.Int64() for name in HOUSEHOLD_RESULTS},
    "status": pl.Utf8(),
    "batch_no": pl.Int64(),
    "review_reason": pl.Utf8(),
}
"""The columns of a stored entitlement a run reads (``read_frame`` schema)."""


def _stored(db_session: TenantSession, program: Program) -> pl.DataFrame:
    """The program's stored entitlements (``_STORED``), their columns suffixed ``_old``. On PostgreSQL the rows are
    first locked (``SELECT … FOR UPDATE``) and then read by a later statement, so a confirmation or payment batch that
    changed one of them before the lock was granted is read as committed, and none can change until the run commits
    (``confirm`` and the payment batches lock the entitlement rows, not the program)."""
    e = Entitlement
    if db_session.connection().dialect.name == "postgresql":
        db_session.execute(select(e.household_no).where(e.program == program.code).with_for_update())
    query = select(*(getattr(e, name) for name in _STORED)).where(e.program == program.code)
    return read_frame(db_session, query, _STORED).rename(lambda name: f"{name}_old")


def _fresh(eligible: pl.Expr) -> pl.Expr:
    """The status of a household new to the program (or back after being withdrawn)."""
    return pl.when(eligible).then(pl.lit(ELIGIBLE)).otherwise(pl.lit(NEEDS_REVIEW))


def _status_after(old: pl.Expr, eligible: pl.Expr, review_reason: pl.Expr) -> pl.Expr:
    """The status of a household whose amounts a run changed: a confirmed (or 振込不能) household stays so while
    still eligible, one held for review of its account stays held; otherwise the new computation decides."""
    kept = old.is_in([CONFIRMED, FAILED])
    return (
        pl.when(review_reason.is_not_null())
        .then(pl.lit(NEEDS_REVIEW))
        .when(~eligible)
        .then(pl.when(kept).then(pl.lit(NEEDS_REVIEW)).otherwise(_fresh(eligible)))
        .when(kept)
        .then(old)
        .otherwise(pl.lit(ELIGIBLE))
    )


def _differences(frame: pl.DataFrame) -> list[Difference]:
    return [
        Difference(row["household_no"], row["amount_old"], row["amount"], row["status_old"], row["status"])
        for row in frame.select("household_no", "amount_old", "amount", "status_old", "status").iter_rows(named=True)
    ]


_UPDATE_BATCH = 20_000
"""Rows per ``executemany`` of ``_update``."""


def _update(db_session: TenantSession, rows: pl.DataFrame) -> None:
    """Update the entitlements of ``rows`` (``household_no``, ``program`` and the columns to set) by primary key, in
    batched ``executemany`` statements."""
    table = Entitlement.__table__
    keys = ("program", "household_no")
    statement = (
        update(Entitlement)
        .where(table.c.lg_code == db_session.lg_code, *(table.c[k] == bindparam(f"_{k}") for k in keys))
        .values({c: bindparam(c) for c in rows.columns if c not in keys})
    )
    named = rows.rename({k: f"_{k}" for k in keys})
    for batch in named.iter_slices(_UPDATE_BATCH):
        db_session.connection().execute(statement, batch.to_dicts())


def run_eligibility(
    db_session: TenantSession,
    *,
    actor: Principal,
    program_code: str,
    residents: pl.DataFrame,
    parameters: Mapping[str, ParamValue],
) -> RunResult:
    """Compute the program over ``residents`` (one row per resident on the base date, ``kiban.benefits.rules``
    inputs) and store the entitlements (see the module docstring). Needs ``WELFARE_WRITE``; audited.

    Set-based: the stored entitlements are read as one frame (``_stored``: locked first on PostgreSQL), joined with
    the computed units on ``household_no`` and classified at once; new households are inserted in bulk, and only
    the rows that change are updated (by primary key), so a run that changes nothing writes no entitlement."""
    lg_code = authorize(
        db_session, actor=actor, permission=Permission.WELFARE_WRITE, action="benefits.run", purpose=PURPOSE
    )
    program = program_of(program_code)
    started = datetime.now(UTC)
    computed = _units(entitlements(residents, program, parameters), program)
    parameters_json = _parameters_json(program, parameters)
    lock_program(db_session, lg_code, program.code)
    db_session.flush()
    run_no = (db_session.scalar(select(func.max(BenefitRun.run_no))) or 0) + 1
    joined = (
        _values(computed)
        .with_row_index("order")
        .join(_stored(db_session, program), left_on="household_no", right_on="household_no_old", how="full")
        .with_columns(pl.coalesce("household_no", "household_no_old").alias("household_no"))
        .sort("order", "household_no", nulls_last=True)
    )
    new = pl.col("household_no_old").is_null()
    gone = pl.col("order").is_null()
    withdrawn = pl.col("status_old") == WITHDRAWN
    frozen = pl.col("batch_no_old").is_not_null() | (pl.col("status_old") == PAID)
    same = pl.all_horizontal(pl.col(c) == pl.col(f"{c}_old") for c in COMPARED) & ~withdrawn
    classified = joined.with_columns(
        pl.when(new)
        .then(pl.lit("added"))
        .when(gone)
        .then(
            pl.when(withdrawn).then(pl.lit("unchanged")).when(frozen).then(pl.lit("held")).otherwise(pl.lit("removed"))
        )
        .when(same)
        .then(pl.lit("unchanged"))
        .when(frozen)
        .then(pl.lit("held"))
        .when(withdrawn)
        .then(pl.lit("added"))
        .otherwise(pl.lit("changed"))
        .alias("difference"),
        pl.when(new)
        .then(_fresh(pl.col("eligible")))
        .when(gone)
        .then(pl.lit(WITHDRAWN))
        .when(withdrawn & ~frozen)
        .then(_fresh(pl.col("eligible")))
        .otherwise(_status_after(pl.col("status_old"), pl.col("eligible"), pl.col("review_reason_old")))
        .alias("status"),
    ).filter(pl.col("difference") != "unchanged")
    kinds = {kind: classified.filter(pl.col("difference") == kind) for kind in ("added", "changed", "removed", "held")}
    inserted = kinds["added"].filter(new)
    insert_frame(
        db_session,
        Entitlement.__table__,  # type: ignore[arg-type]
        inserted.select(
            pl.lit(lg_code).alias("lg_code"),
            pl.lit(program.code).alias("program"),
            "household_no",
            *COMPARED,
            "status",
            pl.lit(run_no).alias("run_no"),
            pl.Series("confirmation_code", [new_confirmation_code() for _ in range(inserted.height)], pl.Utf8),
        ),
    )
    recomputed = pl.concat([kinds["added"].filter(~new), kinds["changed"]])
    for rows in (
        recomputed.select("household_no", *COMPARED, "status"),
        kinds["removed"].select("household_no", "status"),
    ):
        _update(db_session, rows.with_columns(pl.lit(program.code).alias("program"), pl.lit(run_no).alias("run_no")))
    for entitlement in [o for o in db_session.identity_map.values() if isinstance(o, Entitlement)]:
        if entitlement.program == program.code:
            db_session.expire(entitlement)
    added, changed, removed, held = (_differences(kinds[k]) for k in ("added", "changed", "removed", "held"))
    db_session.add(
        BenefitRun(
            lg_code=lg_code,
            run_no=run_no,
            program=program.code,
            started_at=started,
            households=computed.height,
            added=len(added),
            changed=len(changed),
            removed=len(removed),
            held=len(held),
            parameters=parameters_json,
            actor=actor.user_id,
        )
    )
    result = RunResult(run_no, program.code, computed.height, added, changed, removed, held)
    record(
        db_session,
        actor=actor,
        action="benefits.run",
        purpose=PURPOSE,
        detail={
            "program": program.code,
            "run_no": run_no,
            "households": computed.height,
            "added": len(added),
            "changed": len(changed),
            "removed": len(removed),
            "held": len(held),
        },
    )
    db_session.flush()
    # every run registers its persons with the national duplicate check (that module imports this one)
    from kiban.benefits.national_check import register_claims

    register_claims(db_session, actor=actor, program_code=program.code, persons=residents)
    return result


def _refuse(
    db_session: TenantSession, actor: Principal, action: str, subject: str, error: FieldError, **detail: Any
) -> InputError:
    record_refusal(db_session, actor=actor, action=action, purpose=PURPOSE, subject=subject, detail=detail or None)
    return InputError(error)


def _account_text(account: BankAccount) -> str:
    kind = ACCOUNT_TYPES.get(account.account_type, account.account_type)
    return f"{account.bank_code}-{account.branch_code} {kind} {account.account_number}"


def households_sharing(db_session: TenantSession, entitlement: Entitlement, account: BankAccount) -> list[Entitlement]:
    """The other households of the program (not withdrawn) already given ``account`` (bank, branch, type and number),
    leaving out those whose 受給権者 is the same person (a household renumbered by 世帯分離 or a move within the
    municipality is not another household)."""
    e = Entitlement
    query = (
        select(e)
        .where(
            e.program == entitlement.program,
            e.account_number == account.account_number,
            e.bank_code == account.bank_code,
            e.branch_code == account.branch_code,
            e.account_type == account.account_type,
            e.household_no != entitlement.household_no,
            e.recipient_no != entitlement.recipient_no,
            e.status != WITHDRAWN,
        )
        .order_by(e.household_no)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return list(db_session.scalars(query))


def _hold_for_shared_account(entitlement: Entitlement, others: list[Entitlement], account: BankAccount) -> list[str]:
    """Put ``entitlement`` and the others not yet being paid on review, each saying why; returns the households
    held."""
    held = [entitlement.household_no]
    numbers = "、".join(o.household_no for o in others)
    entitlement.status = NEEDS_REVIEW
    entitlement.review_reason = (
        f"同じ口座（{_account_text(account)}）が別の世帯（世帯番号 {numbers}）の給付にも"
        "指定されています。代理受領・口座の誤記などの事情を確認し、問題がなければ確認を解除してください。"
    )
    for other in others:
        if other.status == CONFIRMED and other.batch_no is None:
            other.status = NEEDS_REVIEW
            other.review_reason = (
                f"同じ口座（{_account_text(account)}）が後から別の世帯（世帯番号 {entitlement.household_no}）の給付に"
                "指定されました。事情を確認し、問題がなければ確認を解除してください。"
            )
            held.append(other.household_no)
    return held


def not_entitled(program: Program, household_no: str) -> NotFound:
    """The error for a household that has no entitlement of the program."""
    return NotFound(f"世帯番号 {household_no} は{program.name}の対象として登録されていません。")


def _locked_entitlement(db_session: TenantSession, program: Program, household_no: str) -> Entitlement:
    """The household's entitlement read afresh and locked to the end of the transaction; ``NotFound`` if none."""
    query = (
        select(Entitlement)
        .where(Entitlement.program == program.code, Entitlement.household_no == household_no)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    entitlement = db_session.scalar(query)
    if entitlement is None:
        raise not_entitled(program, household_no)
    return entitlement


def confirm(
    db_session: TenantSession, *, actor: Principal, program_code: str, household_no: str, account: BankAccount
) -> Entitlement:
    """The household confirmed its entitlement and the account to pay (the 確認書 returned, or the 公金受取口座
    chosen): ``eligible`` or ``failed`` become ``confirmed`` with the account. Confirming again with the same account
    changes nothing; another account replaces it while the household is not in a payment batch. An account already
    given for an unrelated household of the program puts both on ``needs_review`` (``households_sharing``). Safe
    under concurrency: confirmations of one account queue on a lock, then the entitlement row is locked, so identical
    confirmations arriving together make one change and one audited change. Needs ``WELFARE_WRITE``; audited
    (``detail.changed`` says whether anything changed, ``detail.held`` which households went to review)."""
    lg_code = authorize(
        db_session, actor=actor, permission=Permission.WELFARE_WRITE, action="benefits.confirm", purpose=PURPOSE
    )
    program = program_of(program_code)
    given = checked_account(account)
    _advisory_lock(
        db_session,
        f"benefits:{lg_code}:{program.code}:account:{given.bank_code}{given.branch_code}{given.account_type}"
        f"{given.account_number}",
    )
    entitlement = _locked_entitlement(db_session, program, household_no)
    status = entitlement.status
    where = f"世帯番号 {household_no} の状態"
    under_review = status == NEEDS_REVIEW and entitlement.review_reason is not None
    if under_review and account_of(entitlement) != given:
        fix = "口座の確認中です。職員が確認を解除するまで、口座は変更できません。"
        raise _refuse(db_session, actor, "benefits.confirm", household_no, FieldError(where, "口座の確認中", fix))
    if status in (NEEDS_REVIEW, WITHDRAWN, PAID) and not under_review:
        fix = {
            NEEDS_REVIEW: "課税区分が確認できていません。前住所地への照会などで確認し、再計算してから受け付けて"
            "ください。",
            WITHDRAWN: "再計算で給付の対象から外れています。対象となる理由があれば再計算の入力を確認してください。",
            PAID: "既に振り込み済みです。重複して受け付けることはできません。",
        }[status]
        raise _refuse(
            db_session, actor, "benefits.confirm", household_no, FieldError(where, STATUS_LABELS[status], fix)
        )
    unchanged = status in (CONFIRMED, NEEDS_REVIEW) and account_of(entitlement) == given
    if status == CONFIRMED and not unchanged and entitlement.batch_no is not None:
        fix = (
            f"支払バッチ {entitlement.batch_no} に含まれています。口座を直すには、支払バッチの明細を修正してください"
            "（承認はやり直しになります）。"
        )
        raise _refuse(db_session, actor, "benefits.confirm", household_no, FieldError(where, "支払処理中", fix))
    # the national duplicate check (kiban.benefits.national_check): a tie goes to the first to confirm
    national = {} if unchanged else claims.stamp(db_session, program=program.code, households=[household_no])
    if national.get(household_no) == claims.BLOCKED:
        fix = "他の市区町村で支給対象となっている方がいます（二重給付の防止）。転出・転入の異動日を確認してください。"
        raise _refuse(db_session, actor, "benefits.confirm", household_no, FieldError(where, "他団体で支給対象", fix))
    held: list[str] = []
    if not unchanged:
        set_account(entitlement, given)
        entitlement.status = CONFIRMED
        entitlement.confirmed_by = actor.user_id
        entitlement.confirmed_at = datetime.now(UTC)
        others = households_sharing(db_session, entitlement, given)
        if others:
            held = _hold_for_shared_account(entitlement, others, given)
    record(
        db_session,
        actor=actor,
        action="benefits.confirm",
        purpose=PURPOSE,
        subject=household_no,
        detail={"program": program.code, "changed": not unchanged, "previous_status": status, "held": held},
    )
    db_session.flush()
    return entitlement


CLEAR_REASON = "解除の理由"
"""Label of the staff's written reason for clearing an account review (``clear_account_review``)."""
MAX_CLEAR_REASON_LENGTH = 500
"""Characters of that reason: a few sentences naming the papers checked (the audit detail stays small)."""


def clear_account_review(
    db_session: TenantSession, *, actor: Principal, program_code: str, household_no: str, reason: str
) -> Entitlement:
    """Staff checked a household held for its account (``review_reason``) and found it in order (e.g. a guardian's
    account for two households of their wards): it becomes ``confirmed`` again and can be paid. Needs
    ``WELFARE_WRITE`` and a written ``reason`` (what was checked; at most ``MAX_CLEAR_REASON_LENGTH`` characters);
    audited with the reason that was cleared and the staff's reason. The audit log refuses a My Number
    (番号法第19条), so a reason holding one is refused as an ``InputError`` and nothing changes."""
    authorize(
        db_session, actor=actor, permission=Permission.WELFARE_WRITE, action="benefits.clear_review", purpose=PURPOSE
    )
    program = program_of(program_code)
    entitlement = _locked_entitlement(db_session, program, household_no)
    held_for = entitlement.review_reason
    if entitlement.status != NEEDS_REVIEW or held_for is None:
        fix = "口座の確認待ちではありません（解除するものがありません）。"
        raise _refuse(
            db_session,
            actor,
            "benefits.clear_review",
            household_no,
            FieldError(f"世帯番号 {household_no} の状態", STATUS_LABELS[entitlement.status], fix),
        )
    given = reason.strip()
    if not given:
        fix = "確認した書類と内容（例：後見人の口座であることを登記事項証明書で確認）を入力してください。"
        raise InputError(FieldError(CLEAR_REASON, reason, fix))
    if len(given) > MAX_CLEAR_REASON_LENGTH:
        raise InputError(
            FieldError(CLEAR_REASON, given[:40] + "…", f"{MAX_CLEAR_REASON_LENGTH}文字以内で入力してください。")
        )
    detail = {"program": program.code, "reason": held_for, "staff_reason": given}
    try:
        record(
            db_session,
            actor=actor,
            action="benefits.clear_review",
            purpose=PURPOSE,
            subject=household_no,
            detail=detail,
        )
    except ValueError as exc:  # the audit log's refusal of a My Number (the value is not echoed back)
        fix = "個人番号を含めずに入力してください（監査ログには個人番号を記録できません）。"
        raise InputError(FieldError(CLEAR_REASON, "（個人番号と思われる数字を含む入力）", fix)) from exc
    entitlement.status, entitlement.review_reason = CONFIRMED, None
    db_session.flush()
    return entitlement


def entitlement_of(db_session: TenantSession, *, actor: Principal, program_code: str, household_no: str) -> Entitlement:
    """One household's entitlement; ``NotFound`` if none. Needs ``WELFARE_READ``; audited."""
    authorize(db_session, actor=actor, permission=Permission.WELFARE_READ, action="benefits.read", purpose=PURPOSE)
    program = program_of(program_code)
    found = db_session.scalar(
        select(Entitlement).where(Entitlement.program == program.code, Entitlement.household_no == household_no)
    )
    record(
        db_session,
        actor=actor,
        action="benefits.read",
        purpose=PURPOSE,
        subject=household_no,
        detail={"program": program.code, "found": found is not None},
    )
    if found is None:
        raise not_entitled(program, household_no)
    return found


def entitlements_of(db_session: TenantSession, *, actor: Principal, program_code: str) -> list[Entitlement]:
    """Every stored entitlement of the program, by 世帯番号. Needs ``WELFARE_READ``; audited."""
    authorize(db_session, actor=actor, permission=Permission.WELFARE_READ, action="benefits.list", purpose=PURPOSE)
    program = program_of(program_code)
    found = list(
        db_session.scalars(
            select(Entitlement).where(Entitlement.program == program.code).order_by(Entitlement.household_no)
        )
    )
    record(
        db_session,
        actor=actor,
        action="benefits.list",
        purpose=PURPOSE,
        detail={"program": program.code, "count": len(found)},
    )
    return found


IN_BATCH = "in_batch"
"""A confirmed household whose line is in a payment batch (pending or sent): a stage of the dashboard, not a
stored status."""
STAGES = (ELIGIBLE, NEEDS_REVIEW, CONFIRMED, IN_BATCH, PAID, FAILED, WITHDRAWN)
STAGE_LABELS = {**STATUS_LABELS, IN_BATCH: "支払処理中（支払バッチに含まれる）"}
SEARCH_PAGE = 50
"""Entitlements per page of a search."""


@dataclass(frozen=True)
class StageCount:
    households: int
    amount: int
    """Sum of the households' amounts (yen)."""


@dataclass(frozen=True)
class StageCounts:
    """A program's households and amounts per stage (every stage of its dashboard, zero when none), the benefits
    dashboard's (``STAGES``) or the payment progress's (``kiban.payments.progress.STAGES``)."""

    program: Program
    stages: dict[str, StageCount]

    @property
    def entitled(self) -> StageCount:
        """Every household not withdrawn."""
        live = [c for stage, c in self.stages.items() if stage != WITHDRAWN]
        return StageCount(sum(c.households for c in live), sum(c.amount for c in live))

    @property
    def paid_share(self) -> float:
        """The paid amount out of the entitled amount (0 when nothing is entitled)."""
        total = self.entitled.amount
        return self.stages[PAID].amount / total if total else 0.0


@dataclass(frozen=True)
class ProgramSummary(StageCounts):
    """Where a program stands: households and amounts per stage, and its runs (latest first)."""

    runs: list[BenefitRun]


@dataclass(frozen=True)
class EntitlementPage:
    """One page of a search: the rows, how many match in all, and the page number (1-based)."""

    rows: list[Entitlement]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def stage_of(entitlement: Entitlement) -> str:
    """The entitlement's stage (a key of ``STAGE_LABELS``)."""
    return IN_BATCH if entitlement.status == CONFIRMED and entitlement.batch_no is not None else entitlement.status


def _stage_counts(db_session: TenantSession, program_codes: list[str]) -> dict[str, dict[str, StageCount]]:
    e = Entitlement
    in_batch = (e.status == CONFIRMED) & e.batch_no.is_not(None)
    query = (
        select(e.program, e.status, in_batch, func.count(), func.coalesce(func.sum(e.amount), 0))
        .where(e.program.in_(program_codes))
        .group_by(e.program, e.status, in_batch)
    )
    counts = {code: dict.fromkeys(STAGES, StageCount(0, 0)) for code in program_codes}
    for program, status, batched, households, amount in db_session.execute(query):
        stage = IN_BATCH if batched else status
        previous = counts[program][stage]
        counts[program][stage] = StageCount(previous.households + households, previous.amount + int(amount))
    return counts


def program_summaries(db_session: TenantSession, *, actor: Principal, runs: int = 10) -> list[ProgramSummary]:
    """Every program's households and amounts per stage (one grouped query) with its last ``runs`` runs. Needs
    ``WELFARE_READ``; audited (counts only: no household is named)."""
    authorize(db_session, actor=actor, permission=Permission.WELFARE_READ, action="benefits.summary", purpose=PURPOSE)
    codes = list(PROGRAMS)
    counts = _stage_counts(db_session, codes)
    summaries = []
    for code in codes:
        query = select(BenefitRun).where(BenefitRun.program == code).order_by(BenefitRun.run_no.desc()).limit(runs)
        summaries.append(ProgramSummary(PROGRAMS[code], counts[code], list(db_session.scalars(query))))
    record(db_session, actor=actor, action="benefits.summary", purpose=PURPOSE, detail={"programs": len(codes)})
    return summaries


def search_entitlements(
    db_session: TenantSession,
    *,
    actor: Principal,
    program_code: str,
    number: str = "",
    stage: str = "",
    page: int = 1,
    page_size: int = SEARCH_PAGE,
) -> EntitlementPage:
    """Entitlements of the program whose 世帯番号 or 受給権者の宛名番号 is ``number`` (any when blank), in ``stage``
    (one of ``STAGES``; any when blank), by 世帯番号, one page. Needs ``WELFARE_READ``; audited (the number searched
    is the subject)."""
    authorize(db_session, actor=actor, permission=Permission.WELFARE_READ, action="benefits.search", purpose=PURPOSE)
    program = program_of(program_code)
    if stage and stage not in STAGES:
        raise InputError(FieldError("状態", stage, f"次のいずれかを指定してください：{'、'.join(STAGES)}。"))
    if page < 1:
        raise InputError(FieldError("ページ", str(page), "1以上の数で指定してください。"))
    e = Entitlement
    conditions = [e.program == program.code]
    wanted = number.strip()
    if wanted:
        conditions.append((e.household_no == wanted) | (e.recipient_no == wanted))
    if stage == IN_BATCH:
        conditions += [e.status == CONFIRMED, e.batch_no.is_not(None)]
    elif stage == CONFIRMED:
        conditions += [e.status == CONFIRMED, e.batch_no.is_(None)]
    elif stage:
        conditions.append(e.status == stage)
    total = db_session.scalar(select(func.count()).select_from(e).where(*conditions)) or 0
    query = select(e).where(*conditions).order_by(e.household_no).offset((page - 1) * page_size).limit(page_size)
    rows = list(db_session.scalars(query))
    record(
        db_session,
        actor=actor,
        action="benefits.search",
        purpose=PURPOSE,
        subject=wanted or None,
        detail={"program": program.code, "stage": stage or None, "page": page, "count": len(rows), "total": total},
    )
    return EntitlementPage(rows, total, page, page_size)
