"""Sending the 確認書 of a プッシュ型 program: every household waiting for one, as PDFs for printing and the print
vendor's data, with the time each household was notified.

Verbs: ``export_notices`` (the batch: a zip of PDF parts, the vendor CSV and a manifest in a directory; the
households written are stamped ``notified_at``), ``notice_of`` (one household's 確認書 again, e.g. to reissue it).

Names and addresses are those of the 受給権者 on the program's base date (the registry snapshot, read and audited
there). PDFs are made ``PART_SIZE`` notices at a time and written to the zip one part after the other, so memory
does not grow with the town. Personal data leaves the system here: every export is audited with its row count and
the SHA-256 of the files, and refused without ``WELFARE_WRITE``.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import select, update

from kiban.benefits.models import ELIGIBLE, Entitlement
from kiban.benefits.notice import ConfirmationNotice, notices_pdf, postal_label
from kiban.benefits.print_export import CsvResult, Encoding, Unencodable, barcode_data, write_csv
from kiban.benefits.programs import Delivery, Program
from kiban.benefits.service import ACCOUNT_COLUMNS, PURPOSE, account_from, lock_program, not_entitled, program_of
from kiban.core.audit.service import authorize, record
from kiban.core.dates import to_wareki
from kiban.core.db import TenantSession
from kiban.core.errors import FieldError, InputError, NotFound
from kiban.core.identity.permissions import Permission, Principal
from kiban.core.tenants import service as tenants
from kiban.registry import snapshot

PART_SIZE = 500
"""Notices per PDF in the zip (a part is rendered in memory, then written)."""
STAMP_CHUNK = 10_000
"""Households per ``UPDATE … IN (…)`` when stamping ``notified_at``."""


@dataclass(frozen=True)
class ExportResult:
    program: str
    rows: int
    directory: Path
    files: dict[str, str]
    """File name → SHA-256 (the zip, the CSV and the manifest)."""
    unencodable: list[Unencodable] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    """Households whose 受給権者 is not on the register on the base date (not exported; staff check them)."""


def _push_program(code: str) -> Program:
    program = program_of(code)
    if program.delivery is not Delivery.PUSH:
        raise InputError(
            FieldError("給付事業", code, f"{program.name}は申請型のため確認書はありません（申請書で受け付けます）。")
        )
    return program


def _issuer(db_session: TenantSession, lg_code: str) -> str:
    return f"{tenants.get(db_session=db_session, lg_code=lg_code).name}長"


def _waiting(
    db_session: TenantSession, program: str, *, include_notified: bool, household_no: str | None
) -> pl.DataFrame:
    e = Entitlement
    columns = [
        e.household_no,
        e.recipient_no,
        e.confirmation_code,
        e.members,
        e.children,
        e.base_amount,
        e.child_addition,
        e.top_up,
        e.amount,
        *(getattr(e, c) for c in ACCOUNT_COLUMNS),
    ]
    query = select(*columns).where(e.program == program).order_by(e.household_no)
    if household_no is not None:
        query = query.where(e.household_no == household_no)
    else:
        query = query.where(e.status == ELIGIBLE)
        if not include_notified:
            query = query.where(e.notified_at.is_(None))
    names = [c.key for c in columns]
    schema = {
        n: pl.Int64()
        if n in ("members", "children", "base_amount", "child_addition", "top_up", "amount")
        else pl.Utf8()
        for n in names
    }
    rows = db_session.execute(query).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def _with_recipients(
    db_session: TenantSession, actor: Principal, program: Program, waiting: pl.DataFrame
) -> tuple[pl.DataFrame, list[str]]:
    residents = snapshot.residents(db_session, actor=actor, on=program.base_date).select(
        pl.col("person_no").alias("recipient_no"),
        pl.concat_str("family_name", "given_name", separator="\u3000").alias("name"),
        "postal_code",
        pl.concat_str("pref_name", "city_name", "town", "banchi").alias("address"),
        "banchi",
    )
    joined = waiting.join(residents, on="recipient_no", how="left")
    missing = joined.filter(pl.col("name").is_null())["household_no"].to_list()
    return joined.filter(pl.col("name").is_not_null()), missing


def _notice(row: dict[str, Any], program: Program, issuer: str, issued_on: date) -> ConfirmationNotice:
    return ConfirmationNotice(
        issuer=issuer,
        issued_on=issued_on,
        program=program,
        household_no=row["household_no"],
        confirmation_code=row["confirmation_code"],
        name=row["name"],
        postal_code=row["postal_code"],
        address=row["address"],
        members=row["members"],
        children=row["children"],
        base_amount=row["base_amount"],
        child_addition=row["child_addition"],
        top_up=row["top_up"],
        amount=row["amount"],
        account=account_from(row),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_parts(
    zipped: zipfile.ZipFile, frame: pl.DataFrame, program: Program, issuer: str, issued_on: date, part_size: int
) -> list[dict[str, Any]]:
    parts = []
    for number, part in enumerate(frame.iter_slices(part_size), start=1):
        name = f"kakuninsho_{number:04d}.pdf"
        pdf = notices_pdf(_notice(row, program, issuer, issued_on) for row in part.iter_rows(named=True))
        zipped.writestr(name, pdf)
        parts.append({"name": name, "pages": part.height, "sha256": hashlib.sha256(pdf).hexdigest()})
    return parts


def _print_rows(frame: pl.DataFrame, program: Program, part_size: int) -> Iterator[dict[str, str]]:
    deadline = to_wareki(program.confirmation_end)
    for i, row in enumerate(frame.iter_rows(named=True)):
        yield {
            "連番": str(i + 1),
            "確認番号": row["confirmation_code"],
            "世帯番号": row["household_no"],
            "郵便番号": postal_label(row["postal_code"])[1:],
            "住所": row["address"],
            "氏名": row["name"],
            "基本額": str(row["base_amount"]),
            "こども加算": str(row["child_addition"]),
            "上乗せ": str(row["top_up"]),
            "支給予定額": str(row["amount"]),
            "返送期限": deadline,
            "バーコード情報": barcode_data(row["postal_code"], row["banchi"]),
            "ファイル名": f"kakuninsho_{i // part_size + 1:04d}.pdf",
            "ページ": str(i % part_size + 1),
        }


def _stamp_notified(db_session: TenantSession, program: str, households: list[str], at: datetime) -> None:
    for start in range(0, len(households), STAMP_CHUNK):
        chunk = households[start : start + STAMP_CHUNK]
        db_session.execute(
            update(Entitlement)
            .where(Entitlement.program == program, Entitlement.household_no.in_(chunk))
            .values(notified_at=at)
            .execution_options(synchronize_session=False)
        )


def export_notices(
    db_session: TenantSession,
    *,
    actor: Principal,
    program_code: str,
    out_dir: Path,
    encoding: Encoding = "cp932",
    include_notified: bool = False,
    part_size: int = PART_SIZE,
    issued_on: date | None = None,
) -> ExportResult:
    """Write the 確認書 of every household of the program waiting for one (``eligible``; with ``include_notified``
    also those already sent one) into ``out_dir``: ``<program>_<time>_notices.zip`` (PDF parts of ``part_size``
    pages), ``…_print.csv`` (the vendor's rows, ``encoding``) and ``…_manifest.json``; stamp those households
    ``notified_at``. Needs ``WELFARE_WRITE`` (and ``REGISTRY_READ`` for names and addresses); audited."""
    lg_code = authorize(
        db_session, actor=actor, permission=Permission.WELFARE_WRITE, action="benefits.notices.export", purpose=PURPOSE
    )
    program = _push_program(program_code)
    if part_size < 1:
        raise InputError(FieldError("1ファイルの枚数", str(part_size), "1以上の数を指定してください。"))
    lock_program(db_session, lg_code, program.code)
    now = datetime.now(UTC)
    issued_on = issued_on or now.date()
    waiting = _waiting(db_session, program.code, include_notified=include_notified, household_no=None)
    frame, missing = _with_recipients(db_session, actor, program, waiting)
    out_dir.mkdir(parents=True, exist_ok=True)
    prefix = f"{program.code}_{now:%Y%m%d%H%M%S}"
    zip_path, csv_path, manifest_path = (
        out_dir / f"{prefix}_{n}" for n in ("notices.zip", "print.csv", "manifest.json")
    )
    if any(p.exists() for p in (zip_path, csv_path, manifest_path)):
        raise InputError(
            FieldError("出力先", str(out_dir), "同じ名前のファイルがあります。少し待ってから実行してください。")
        )
    issuer = _issuer(db_session, lg_code)
    with zipfile.ZipFile(zip_path, "x", compression=zipfile.ZIP_DEFLATED) as zipped:
        parts = _write_parts(zipped, frame, program, issuer, issued_on, part_size)
    with csv_path.open("xb") as out:
        written: CsvResult = write_csv(_print_rows(frame, program, part_size), out, encoding)
    files = {zip_path.name: _sha256(zip_path), csv_path.name: written.sha256}
    manifest = {
        "lg_code": lg_code,
        "program": program.code,
        "program_name": program.name,
        "created_at": now.isoformat(),
        "encoding": encoding,
        "rows": written.rows,
        "files": [{"name": name, "sha256": sha} for name, sha in files.items()],
        "pdf_parts": parts,
        "unencodable": [{"row": u.row, "column": u.column, "code_point": u.code_point} for u in written.unencodable],
    }
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    files[manifest_path.name] = _sha256(manifest_path)
    households = frame["household_no"].to_list()
    _stamp_notified(db_session, program.code, households, now)
    record(
        db_session,
        actor=actor,
        action="benefits.notices.export",
        purpose=PURPOSE,
        detail={
            "program": program.code,
            "rows": written.rows,
            "encoding": encoding,
            "files": files,
            "unencodable": len(written.unencodable),
            "missing": missing,
        },
    )
    db_session.flush()
    return ExportResult(program.code, written.rows, out_dir, files, written.unencodable, missing)


def notice_of(
    db_session: TenantSession, *, actor: Principal, program_code: str, household_no: str, issued_on: date | None = None
) -> bytes:
    """One household's 確認書 as PDF (to reissue it; ``notified_at`` is not changed). Needs ``WELFARE_READ`` (and
    ``REGISTRY_READ``); audited with the 世帯番号 as subject."""
    lg_code = authorize(
        db_session, actor=actor, permission=Permission.WELFARE_READ, action="benefits.notice.read", purpose=PURPOSE
    )
    program = _push_program(program_code)
    waiting = _waiting(db_session, program.code, include_notified=True, household_no=household_no)
    if waiting.is_empty():
        raise not_entitled(program, household_no)
    frame, missing = _with_recipients(db_session, actor, program, waiting)
    if missing:
        raise NotFound(f"世帯番号 {household_no} の世帯主は基準日の住民記録にありません。")
    notice = _notice(frame.row(0, named=True), program, _issuer(db_session, lg_code), issued_on or date.today())
    record(
        db_session,
        actor=actor,
        action="benefits.notice.read",
        purpose=PURPOSE,
        subject=household_no,
        detail={"program": program.code},
    )
    return notices_pdf([notice])
