"""Configuration of the execution layer (order manager, reconciler, state store)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ExecutionConfig(BaseModel):
    """How orders are sent, tracked and reconciled. Every default is documented in its field."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id_prefix: str = Field(
        "mmb", pattern=r"^[a-zA-Z0-9]{1,8}$", description="prefix of client order ids (with a persistent counter)"
    )
    state_path: str = Field("mmbot-state.sqlite3", description="SQLite file of order state (':memory:' for none)")
    request_timeout_s: float = Field(5.0, gt=0, description="a request with no answer by then has UNKNOWN outcome")
    amend: Literal["cancel_then_place", "cancel_replace"] = Field(
        "cancel_then_place", description="how a resting quote moves to a new price: a cancel and a new order, or "
        "one cancelReplace request (STOP_ON_FAILURE; half successes are resolved)")
    reconcile_interval_s: float = Field(30.0, gt=0, description="periodic reconciliation against the venue")
    unknown_queries_before_lost: int = Field(
        3, ge=1, description="'order does not exist' answers before an UNKNOWN order is marked LOST"
    )
    lost_expire_after_s: float = Field(
        120.0, gt=60, description="a LOST order older than this (past Binance's 60 s max recvWindow, so the venue "
        "can no longer execute its request) is final: EXPIRED"
    )
    prune_after_s: float = Field(
        3600.0, gt=120, description="each reconcile forgets orders finished and reconciled longer ago than this, and "
        "their fills once synced (their lots stay in the position): the state store stays bounded"
    )
    max_in_flight: int = Field(64, ge=1, description="requests in flight at once (per order manager)")
    max_open_per_side: int = Field(
        4, ge=1, description="orders that may rest on one side of a symbol at once, cancels not yet confirmed "
        "included: a venue that refuses cancels cannot make quotes pile up (at least twice the ladder's levels)")
    silent_fill_grace_s: float = Field(
        2.0, gt=0, description="a public trade went through a resting order's price and no report of its fill "
        "came within this: the order is queried (a silent user stream)")
    cancel_verify_timeout_s: float = Field(10.0, gt=0, description="kill switch: time to verify nothing is open")
    retry_max_attempts: int = Field(3, ge=1, description="attempts for transient errors (never for rejects)")
    retry_base_delay_s: float = Field(0.2, gt=0, description="first backoff delay; doubles, with jitter")
