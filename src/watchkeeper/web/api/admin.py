"""Administration: users, API tokens and the access log (admin role only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response

from watchkeeper.auth import access_log, accounts
from watchkeeper.auth.accounts import AccountError
from watchkeeper.web.api.models import (
    BAD_JSON,
    AccessOut,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    problem,
)
from watchkeeper.web.api.params import Admin, Board, RowId, Since, moment

router = APIRouter(tags=["admin"])


@router.get("/users")
def list_users(board: Board, who: Admin) -> list[UserOut]:
    """Every user and their role."""
    return [UserOut.of(u) for u in accounts.list_users(board.store.engine)]


@router.post(
    "/users",
    status_code=201,
    responses={**BAD_JSON, 409: problem("name taken"), 422: problem("bad name or weak password")},
)
def add_user(body: UserIn, request: Request, board: Board, who: Admin) -> UserOut:
    """Create a user; the password is kept only as an argon2 hash."""
    request.state.action = f"add user {body.name}"
    try:
        user = accounts.add_user(
            board.store.engine, body.name, body.role, body.password, datetime.now(UTC)
        )
    except AccountError as exc:
        raise HTTPException(409 if "already" in str(exc) else 422, str(exc)) from None
    return UserOut.of(user)


@router.delete("/users/{name}", status_code=204, responses={404: problem("no such user")})
def remove_user(name: str, request: Request, board: Board, who: Admin) -> Response:
    """Remove a user with their sessions and tokens."""
    request.state.action = f"remove user {name}"
    if not accounts.remove_user(board.store.engine, name):
        raise HTTPException(404, f"no user called {name!r}")
    return Response(status_code=204)


@router.get("/tokens")
def list_tokens(board: Board, who: Admin) -> list[TokenOut]:
    """Every API token, with which are due for rotation (90 days old, or expiring within 14)."""
    now = datetime.now(UTC)
    return [TokenOut.of(t, now) for t in accounts.list_tokens(board.store.engine)]


@router.post(
    "/tokens",
    status_code=201,
    responses={
        **BAD_JSON,
        404: problem("no such user"),
        422: problem("invalid body, or a role broader than the user's"),
    },
)
def create_token(body: TokenIn, request: Request, board: Board, who: Admin) -> TokenCreated:
    """Create an API token; the response is the only time the token is shown."""
    request.state.action = f"create token {body.name} for {body.user}"
    now = datetime.now(UTC)
    expires = timedelta(days=body.expires_in_days) if body.expires_in_days else None
    try:
        text, token = accounts.create_token(
            board.store.engine, body.user, body.name, now, expires_in=expires, role=body.role
        )
    except AccountError as exc:
        raise HTTPException(404 if "no user" in str(exc) else 422, str(exc)) from None
    return TokenCreated(token=text, details=TokenOut.of(token, now))


@router.delete("/tokens/{token_id}", status_code=204, responses={404: problem("no such token")})
def revoke_token(token_id: RowId, request: Request, board: Board, who: Admin) -> Response:
    """Revoke a token: it stops working at once."""
    request.state.action = f"revoke token {token_id}"
    if not accounts.revoke_token(board.store.engine, token_id, datetime.now(UTC)):
        raise HTTPException(404, f"no active token {token_id}")
    return Response(status_code=204)


@router.get("/access-log")
def read_access_log(
    board: Board,
    who: Admin,
    since: Since = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[AccessOut]:
    """Sign-ins, refusals and every change made through the API or the pages, newest first."""
    entries = access_log.recent(board.store.engine, moment(since, "since"), limit)
    return [AccessOut.of(a) for a in entries]
