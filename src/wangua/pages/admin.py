"""The administrator's pages: accounts with their certificates, reported losses, the
sealed reserve import; and the account requests that staff decide (R-12b, R-34).

Roles follow the API: creating accounts and importing the reserve are the
administrator's (`/api/v1/admin/users`, `/api/v1/lots/{id}/reserve`); unlock and
certificate-rebind requests are decided by trading-center staff, as
`/api/v1/admin/account-requests` is. While a listing runs, an administrator's action
carries a supervisor's co-signature given in person on the same form (R-32b,
`oversight.cosignature.signed_in_cosigner`).
"""

from __future__ import annotations

import base64
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wangua.identity import accounts
from wangua.identity import repository as identities
from wangua.identity.service import ROLES, Proof, create_user, hashed_password
from wangua.kit.messages import N_
from wangua.kit.problems import Problem
from wangua.lots.models import GRANTORS
from wangua.oversight.cosignature import (
    cosigner,
    listing_running,
    record_cosignature,
    signed_in_cosigner,
)
from wangua.pages.rendering import render
from wangua.pages.session import page_role
from wangua.reserve import service as reserve
from wangua.runtime import Actor, Runtime
from wangua.web import ObjectId, RuntimeDep

router = APIRouter(include_in_schema=False)
Admin = Annotated[Actor, Depends(page_role("admin"))]
Staff = Annotated[Actor, Depends(page_role("staff"))]
STAFF_ROLES = tuple(r for r in ROLES if r != "bidder")
"""Bidders register themselves; the administrator creates everybody else."""
ROLE_NAMES = {
    "bidder": N_("竞买人"),
    "staff": N_("交易机构工作人员"),
    "grantor": N_("出让人经办人员"),
    "supervisor": N_("监督人员"),
    "finance": N_("财务人员"),
    "admin": N_("系统管理员"),
}
REQUEST_KINDS = {"unlock": N_("解除锁定"), "rebind": N_("绑定新证书")}
CERTIFICATE_LIMIT = 64 * 1024
SEALED_LIMIT = 150_000  # bytes; the API takes at most 200,000 characters of base64
SHOWN = 200
DONE = {
    "created": N_("账户已创建。"),
    "reserve": N_("密封底价已导入,决定结果前任何人无法查看。"),
    "unlock": N_("已解除锁定。"),
    "rebind": N_("新证书已绑定,原证书仍保持吊销。"),
}


@dataclass(frozen=True)
class Cosigning:
    """The supervisor's sign-in typed into a form's co-signature section (R-32b)."""

    username: str
    password: str
    proof: Proof | None

    def signed_in(self, rt: Runtime) -> AbstractContextManager[str | None]:
        return signed_in_cosigner(rt, self.username, self.password, self.proof)


def cosigning_form(
    cosigner_username: Annotated[str, Form(max_length=64)] = "",
    cosigner_password: Annotated[str, Form(max_length=256)] = "",
    cosigner_certificate: Annotated[str, Form(max_length=20000)] = "",
    cosigner_nonce: Annotated[str, Form(max_length=200)] = "",
    cosigner_signature: Annotated[str, Form(max_length=2000)] = "",
) -> Cosigning:
    proven = cosigner_certificate and cosigner_nonce and cosigner_signature
    proof = Proof(cosigner_certificate, cosigner_nonce, cosigner_signature) if proven else None
    return Cosigning(cosigner_username, cosigner_password, proof)


CosigningForm = Annotated[Cosigning, Depends(cosigning_form)]


def _admin_context(rt: Runtime) -> dict[str, Any]:
    with rt.read() as session:
        revocations = identities.revocations(session, limit=SHOWN)
        reserve_lots = reserve.awaited_reserves(session)
        return {
            "users": identities.staff_accounts(session, limit=SHOWN),
            "revocations": revocations,
            "reserve_lots": reserve_lots,
            "window": reserve.IMPORT_WINDOW,
            "listing_running": listing_running(session),
            "roles": STAFF_ROLES,
            "role_names": ROLE_NAMES,
            "grantors": GRANTORS,
        }


@router.get("/admin", response_class=HTMLResponse)
def admin_page(request: Request, rt: RuntimeDep, actor: Admin, done: str = "") -> HTMLResponse:
    """Accounts, reported losses (R-12b) and the lots whose sealed reserve is awaited (R-11)."""
    return render(request, "admin/index.html", {**_admin_context(rt), "done": DONE.get(done)})


@router.post("/admin/users")
def add_user(
    request: Request,
    rt: RuntimeDep,
    actor: Admin,
    cosigning: CosigningForm,
    certificate_file: Annotated[UploadFile, File()],
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    grantor: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    """As `POST /api/v1/admin/users`: an account of any staff role bound to the uploaded
    certificate; during a listing, with the supervisor's co-signature (R-32b). A refusal
    shows the form again with what was typed (never the passwords)."""
    chosen = roles or []
    pem = certificate_file.file.read(CERTIFICATE_LIMIT + 1).decode("utf-8", "replace")
    try:
        if len(pem) > CERTIFICATE_LIMIT:
            raise Problem(413, "FILE_TOO_LARGE", "文件过大", "证书文件不超过 64 KB")
        if not chosen:
            raise Problem(422, "UNKNOWN_ROLE", "缺少角色", "请至少选择一个角色")
        password_hash = hashed_password(password)
        with cosigning.signed_in(rt) as token, rt.work(actor) as work:
            record_cosignature(work, cosigner(work.session, actor, token), "user.create")
            create_user(
                work,
                username=username.strip(),
                password_hash=password_hash,
                roles=chosen,
                certificate_pem=pem,
                anchors=rt.trust_anchors,
                grantor=grantor or None,
            )
    except Problem as problem:
        typed = {"username": username, "grantor": grantor, "roles": chosen}
        context = {**_admin_context(rt), "problem": problem, "typed": typed}
        return render(request, "admin/index.html", context, status_code=problem.status)
    return RedirectResponse("/admin?done=created", status_code=303)


@router.post("/admin/lots/{lot_id}/reserve")
def import_reserve(
    lot_id: ObjectId, rt: RuntimeDep, actor: Admin, sealed: Annotated[UploadFile, File()]
) -> RedirectResponse:
    """R-11: the file `wangua reserve seal` wrote, as `POST /api/v1/lots/{id}/reserve`; the
    supervisor's signature in the seal is its co-signature (R-32b)."""
    content = sealed.file.read(SEALED_LIMIT + 1)
    if len(content) > SEALED_LIMIT:
        raise Problem(413, "FILE_TOO_LARGE", "文件过大", "密封底价文件不超过 150 KB")
    with rt.work(actor) as work:
        reserve.import_reserve(work, lot_id, base64.b64encode(content).decode(), rt.trust_anchors)
    return RedirectResponse("/admin?done=reserve", status_code=303)


@router.get("/admin/account-requests", response_class=HTMLResponse)
def account_requests(
    request: Request, rt: RuntimeDep, actor: Staff, done: str = ""
) -> HTMLResponse:
    """R-12b, R-34: certificate-proven requests waiting for staff, as the API lists them."""
    with rt.read() as session:
        pending = accounts.pending_requests(session)
    context = {"pending": pending, "kinds": REQUEST_KINDS, "done": DONE.get(done)}
    return render(request, "admin/account_requests.html", context)


@router.post("/admin/users/{user_id}/unlock")
def approve_unlock(user_id: ObjectId, rt: RuntimeDep, actor: Staff) -> RedirectResponse:
    """R-34: as `POST /api/v1/admin/users/{id}/unlock`."""
    with rt.work(actor) as work:
        accounts.approve_unlock(work, user_id)
    return RedirectResponse("/admin/account-requests?done=unlock", status_code=303)


@router.post("/admin/users/{user_id}/certificate")
def approve_rebind(user_id: ObjectId, rt: RuntimeDep, actor: Staff) -> RedirectResponse:
    """R-12b: as `POST /api/v1/admin/users/{id}/certificate`, after checking identity."""
    with rt.work(actor) as work:
        accounts.approve_rebind(work, user_id)
    return RedirectResponse("/admin/account-requests?done=rebind", status_code=303)
