"""Ledger: conserving balance steps, loud failures on negative balances, the fee account exception."""

from __future__ import annotations

import pytest

from exchange_sim.engine.ledger import FEE_ACCOUNT, Ledger, LedgerError
from exchange_sim.engine.types import AccountId, Balance

A = AccountId("a")
B = AccountId("b")


def _ledger() -> Ledger:
    ledger = Ledger()
    ledger.open_account(A)
    ledger.open_account(B, tracked=False)
    ledger.deposit(A, "USDT", 1_000)
    return ledger


def test_lock_and_unlock_move_between_free_and_locked() -> None:
    ledger = _ledger()
    ledger.lock(A, "USDT", 300)
    assert ledger.balance(A, "USDT") == Balance(700, 300)
    ledger.unlock(A, "USDT", 100)
    assert ledger.balance(A, "USDT") == Balance(800, 200)


def test_locking_more_than_free_raises_and_changes_nothing() -> None:
    ledger = _ledger()
    with pytest.raises(LedgerError):
        ledger.lock(A, "USDT", 1_001)
    assert ledger.balance(A, "USDT") == Balance(1_000, 0)


def test_unlocking_more_than_locked_raises() -> None:
    ledger = _ledger()
    ledger.lock(A, "USDT", 10)
    with pytest.raises(LedgerError):
        ledger.unlock(A, "USDT", 11)


def test_transfer_from_locked_credits_the_destination_free() -> None:
    ledger = _ledger()
    ledger.lock(A, "USDT", 400)
    ledger.transfer(A, B, "USDT", 250, from_locked=True)
    assert ledger.balance(A, "USDT") == Balance(600, 150)
    assert ledger.balance(B, "USDT") == Balance(250, 0)


def test_transfer_overdrawing_a_normal_account_raises() -> None:
    ledger = _ledger()
    with pytest.raises(LedgerError):
        ledger.transfer(B, A, "USDT", 1)


def test_fee_account_may_go_negative_paying_a_rebate() -> None:
    ledger = _ledger()
    ledger.transfer(A, FEE_ACCOUNT, "USDT", -5)  # negative fee: a rebate out of the fee account
    assert ledger.balance(FEE_ACCOUNT, "USDT") == Balance(-5, 0)
    assert ledger.balance(A, "USDT") == Balance(1_005, 0)


def test_total_sums_every_account_and_equals_deposits() -> None:
    ledger = _ledger()
    ledger.deposit(B, "USDT", 50)
    ledger.lock(A, "USDT", 10)
    ledger.transfer(A, FEE_ACCOUNT, "USDT", 7)
    assert ledger.total("USDT") == ledger.deposited("USDT") == 1_050


def test_non_positive_deposit_raises() -> None:
    with pytest.raises(LedgerError):
        _ledger().deposit(A, "USDT", 0)


def test_only_tracked_accounts_are_reported_dirty_in_change_order() -> None:
    ledger = _ledger()
    ledger.drain_dirty()
    ledger.deposit(B, "BTC", 5)
    ledger.lock(A, "USDT", 1)
    ledger.deposit(A, "BTC", 1)
    ledger.unlock(A, "USDT", 1)
    assert ledger.drain_dirty() == [(A, "USDT"), (A, "BTC")]
    assert ledger.drain_dirty() == []
