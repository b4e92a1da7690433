"""Identity endpoints (API.md, Identity): challenge, login, logout, me, register, users."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request, Response
from pydantic import BaseModel, Field

from wangua.identity import accounts, service
from wangua.identity import repository as identities
from wangua.identity.client_certs import presented_certificate
from wangua.identity.models import User
from wangua.identity.signin import register_bidder, sign_in
from wangua.kit.paging import before_id, link_after
from wangua.kit.problems import Problem, not_found
from wangua.kit.times import rfc3339
from wangua.oversight.cosignature import cosigner, record_cosignature
from wangua.runtime import SYSTEM, Actor
from wangua.web import CurrentActor, ObjectId, RateLimited, RuntimeDep, link_next, page_limit, role

router = APIRouter(prefix="/api/v1", tags=["identity"])


class ProofBody(BaseModel):
    certificate: str
    nonce: str
    signature: str

    def proof(self) -> service.Proof:
        return service.Proof(self.certificate, self.nonce, self.signature)


class LoginBody(BaseModel):
    """Certificate proof by signed nonce; or, over a TLS connection that presented a client
    certificate, no proof fields at all."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    certificate: str | None = None
    nonce: str | None = None
    signature: str | None = None


class PartyBody(BaseModel):
    kind: Literal["legal", "natural", "other"]
    name: str = Field(min_length=1, max_length=200)
    id_type: str = Field(min_length=1, max_length=40)
    id_no: str = Field(min_length=1, max_length=64)
    domestic: bool = True


class RegisterBody(ProofBody):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    party: PartyBody


class UserBody(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    roles: list[str] | None = None
    role: str | None = None
    certificate: str
    grantor: str | None = None
    party: PartyBody | None = None


def _user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "roles": list(user.roles)}


@router.post("/auth/challenge")
def challenge(rt: RuntimeDep) -> dict[str, Any]:
    """A single-use, short-lived nonce for the certificate proof (R-12a)."""
    with rt.work(SYSTEM) as work:
        nonce = service.issue_nonce(work)
    return {"nonce": nonce.nonce, "expires_at": rfc3339(nonce.expires_at)}


@router.post("/auth/login", dependencies=[RateLimited])
def login(body: LoginBody, request: Request, rt: RuntimeDep) -> dict[str, Any]:
    """R-12a: certificate proof plus password; 401 BAD_CREDENTIALS never says which factor."""
    proof: service.Proof | str | None
    if body.certificate is not None and body.nonce is not None and body.signature is not None:
        proof = service.Proof(body.certificate, body.nonce, body.signature)
    else:
        proof = presented_certificate(request, rt.trusted_proxies)
    outcome = sign_in(rt, body.username, body.password, proof)
    assert outcome.user is not None and outcome.token is not None
    return {
        "token": outcome.token,
        "expires_at": rfc3339(outcome.expires_at),
        "user": _user_json(outcome.user),
    }


@router.post("/auth/logout", status_code=204)
def logout(request: Request, rt: RuntimeDep, actor: CurrentActor) -> Response:
    token = request.headers["authorization"].partition(" ")[2].strip()
    with rt.work(actor) as work:
        service.logout(work, token)
    return Response(status_code=204)


@router.get("/me")
def me(rt: RuntimeDep, actor: CurrentActor) -> dict[str, Any]:
    with rt.read() as session:
        user = session.get(User, actor.user_id)
        if user is None:
            raise not_found("账户")
        return service.me_view(session, user)


@router.post("/register", status_code=201, dependencies=[RateLimited])
def register(body: RegisterBody, rt: RuntimeDep) -> dict[str, Any]:
    """Self-registration of a bidder, with the same certificate proof as login."""
    user = register_bidder(rt, body.username, body.password, body.proof(), body.party.model_dump())
    return _user_json(user)


@router.post("/admin/users", status_code=201)
def create_user(
    body: UserBody,
    rt: RuntimeDep,
    actor: Annotated[Actor, Depends(role("admin"))],
    x_cosigner_token: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """An administrator creates an account of any role, bound to its certificate; while a
    listing runs, with a supervisor's co-signature (`X-Cosigner-Token`, R-32b)."""
    roles = body.roles or ([body.role] if body.role else [])
    if not roles:
        raise Problem(422, "UNKNOWN_ROLE", "缺少角色")
    password_hash = service.hashed_password(body.password)
    with rt.work(actor) as work:
        record_cosignature(work, cosigner(work.session, actor, x_cosigner_token), "user.create")
        user = service.create_user(
            work,
            username=body.username,
            password_hash=password_hash,
            roles=roles,
            certificate_pem=body.certificate,
            anchors=rt.trust_anchors,
            grantor=body.grantor,
            party=body.party.model_dump() if body.party else None,
        )
        return {**_user_json(user), "grantor": user.grantor}


Admin = Annotated[Actor, Depends(role("admin"))]


@router.get("/admin/users")
def list_users(
    request: Request,
    response: Response,
    rt: RuntimeDep,
    actor: Admin,
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """The accounts the administrator created (every role but bidder), newest first, with
    their certificate serial and whether they are locked (R-34); as the administrator's
    page lists them."""
    size = page_limit(limit)
    with rt.read() as session:
        users = identities.staff_accounts(session, before_id(cursor), size)
        items = [identities.account_view(user) for user in users]
    link_next(request, response, items, size, items[-1]["id"] if items else None)
    return items


@router.get("/admin/revocations")
def list_revocations(
    request: Request,
    response: Response,
    rt: RuntimeDep,
    actor: Admin,
    limit: int | None = None,
    cursor: str | None = None,
) -> list[dict[str, Any]]:
    """R-12b: the certificates reported lost (revoked at once), newest first, with their
    holder's account; as the administrator's page lists them."""
    size = page_limit(limit)
    with rt.read() as session:
        rows = identities.revocations(session, cursor or None, size)
        items = [identities.revocation_view(revocation, name) for revocation, name in rows]
    link_after(request, response, items, size, items[-1]["fingerprint"] if items else None)
    return items


class AccountRequestBody(ProofBody):
    username: str = Field(min_length=1, max_length=64)


Staff = Annotated[Actor, Depends(role("staff"))]


@router.post("/me/certificate/report-loss")
def report_loss(rt: RuntimeDep, actor: CurrentActor) -> dict[str, Any]:
    """R-12b: revoke the caller's certificate at once; every session of the account ends."""
    assert actor.user_id is not None
    with rt.work(actor) as work:
        revocation = accounts.report_loss(work, actor.user_id)
        return {"serial": revocation.serial, "revoked_at": rfc3339(revocation.revoked_at)}


@router.post("/me/unlock-request", status_code=202, dependencies=[RateLimited])
def unlock_request(body: AccountRequestBody, rt: RuntimeDep) -> dict[str, Any]:
    """R-34: the certificate proof as in login, no password; staff decide."""
    with rt.work(SYSTEM) as work:
        request = accounts.request_unlock(work, body.username, body.proof(), rt.trust)
        return {"id": request.id, "kind": request.kind, "status": "pending"}


@router.post("/certificate/rebind-request", status_code=202, dependencies=[RateLimited])
def rebind_request(body: AccountRequestBody, rt: RuntimeDep) -> dict[str, Any]:
    """R-12b: after reporting a loss, prove possession of the new certificate; staff bind it
    after checking identity in person."""
    with rt.work(SYSTEM) as work:
        request = accounts.request_rebind(work, body.username, body.proof(), rt.trust)
        return {"id": request.id, "kind": request.kind, "status": "pending"}


@router.get("/admin/account-requests")
def account_requests(rt: RuntimeDep, actor: Staff) -> list[dict[str, Any]]:
    with rt.read() as session:
        return accounts.pending_requests(session)


@router.post("/admin/users/{user_id}/unlock")
def approve_unlock(user_id: ObjectId, rt: RuntimeDep, actor: Staff) -> dict[str, Any]:
    """R-34: lift the lock on a certificate-verified request."""
    with rt.work(actor) as work:
        user = accounts.approve_unlock(work, user_id)
        return {**_user_json(user), "locked": False}


@router.post("/admin/users/{user_id}/certificate")
def approve_rebind(user_id: ObjectId, rt: RuntimeDep, actor: Staff) -> dict[str, Any]:
    """R-12b: bind the new certificate the holder proved possession of."""
    with rt.work(actor) as work:
        user = accounts.approve_rebind(work, user_id)
        return {**_user_json(user), "cert_serial": user.cert_serial}
