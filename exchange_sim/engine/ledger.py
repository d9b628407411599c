"""The venue's balances: per account and asset, free and locked integer atoms, moved only by conserving steps.

Invariants: after ``deposit``, atoms are only moved (``lock``/``try_lock``, ``unlock``, ``transfer``/``settle``),
never created or destroyed, so ``total(asset) == deposited(asset)`` always; no free or locked balance is ever
negative, except the free balance of ``FEE_ACCOUNT``, which pays maker rebates and may go below zero.

Errors: an unknown account raises ``KeyError``; a step that would make a balance negative, or a non-positive
deposit, raises ``LedgerError`` before changing anything (illegal state means an engine bug, so it is loud).
Accounts opened with ``tracked=True`` have each changed ``(account, asset)`` recorded until ``drain_dirty()``.
"""

from __future__ import annotations

from exchange_sim.engine.types import AccountId, Balance

FEE_ACCOUNT = AccountId("venue.fees")


class LedgerError(RuntimeError):
    """A balance step that would break the ledger's invariants."""


class _Wallet:
    __slots__ = ("free", "locked", "may_go_negative", "tracked")

    def __init__(self, tracked: bool, may_go_negative: bool) -> None:
        self.free: dict[str, int] = {}
        self.locked: dict[str, int] = {}
        self.tracked = tracked
        self.may_go_negative = may_go_negative


class Ledger:
    """All accounts' balances. ``FEE_ACCOUNT`` exists from the start (untracked)."""

    __slots__ = ("_deposited", "_dirty", "_wallets")

    def __init__(self) -> None:
        self._wallets: dict[AccountId, _Wallet] = {FEE_ACCOUNT: _Wallet(tracked=False, may_go_negative=True)}
        self._deposited: dict[str, int] = {}
        self._dirty: dict[tuple[AccountId, str], None] = {}  # insertion-ordered set: deterministic reports

    def open_account(self, account: AccountId, *, tracked: bool = True) -> None:
        if account in self._wallets:
            raise LedgerError(f"account {account!r} already open")
        self._wallets[account] = _Wallet(tracked=tracked, may_go_negative=False)

    def has_account(self, account: AccountId) -> bool:
        return account in self._wallets

    def accounts(self) -> list[AccountId]:
        return list(self._wallets)

    def deposit(self, account: AccountId, asset: str, atoms: int) -> None:
        """Create ``atoms`` of ``asset`` in ``account``'s free balance (the only way supply grows)."""
        if atoms <= 0:
            raise LedgerError(f"deposit must be positive, got {atoms}")
        wallet = self._wallets[account]
        wallet.free[asset] = wallet.free.get(asset, 0) + atoms
        self._deposited[asset] = self._deposited.get(asset, 0) + atoms
        if wallet.tracked:
            self._dirty[(account, asset)] = None

    def lock(self, account: AccountId, asset: str, atoms: int) -> None:
        """Move ``atoms`` from free to locked."""
        if atoms == 0:
            return
        wallet = self._wallets[account]
        free = wallet.free.get(asset, 0) - atoms
        if atoms < 0 or free < 0:
            raise LedgerError(f"cannot lock {atoms} {asset} of {account!r}: free {free + atoms}")
        wallet.free[asset] = free
        wallet.locked[asset] = wallet.locked.get(asset, 0) + atoms
        if wallet.tracked:
            self._dirty[(account, asset)] = None

    def try_lock(self, account: AccountId, asset: str, atoms: int) -> bool:
        """``lock`` if the free balance covers ``atoms`` (>= 0); False, changing nothing, if it does not."""
        wallet = self._wallets[account]
        free = wallet.free.get(asset, 0) - atoms
        if free < 0:
            return False
        if atoms:
            wallet.free[asset] = free
            wallet.locked[asset] = wallet.locked.get(asset, 0) + atoms
            if wallet.tracked:
                self._dirty[(account, asset)] = None
        return True

    def unlock(self, account: AccountId, asset: str, atoms: int) -> None:
        """Move ``atoms`` from locked back to free."""
        if atoms == 0:
            return
        wallet = self._wallets[account]
        locked = wallet.locked.get(asset, 0) - atoms
        if atoms < 0 or locked < 0:
            raise LedgerError(f"cannot unlock {atoms} {asset} of {account!r}: locked {locked + atoms}")
        wallet.locked[asset] = locked
        wallet.free[asset] = wallet.free.get(asset, 0) + atoms
        if wallet.tracked:
            self._dirty[(account, asset)] = None

    def transfer(
        self, src: AccountId, dst: AccountId, asset: str, atoms: int, *, from_locked: bool = False
    ) -> None:
        """Move ``atoms`` from ``src``'s free (or locked) balance to ``dst``'s free one. Negative ``atoms``
        move the other way (free to free), which is how a rebate flows out of ``FEE_ACCOUNT``."""
        if atoms == 0:
            return
        if atoms < 0:
            if from_locked:
                raise LedgerError("a negative transfer cannot come from a locked balance")
            src, dst, atoms = dst, src, -atoms
        s = self._wallets[src]
        d = self._wallets[dst]
        bucket = s.locked if from_locked else s.free
        left = bucket.get(asset, 0) - atoms
        if left < 0 and (from_locked or not s.may_go_negative):
            kind = "locked" if from_locked else "free"
            raise LedgerError(f"{src!r} has {left + atoms} {kind} {asset}, cannot pay {atoms}")
        bucket[asset] = left
        d.free[asset] = d.free.get(asset, 0) + atoms
        if s.tracked:
            self._dirty[(src, asset)] = None
        if d.tracked:
            self._dirty[(dst, asset)] = None

    def settle(
        self,
        buyer: AccountId,
        seller: AccountId,
        base_asset: str,
        base: int,
        quote_asset: str,
        quote: int,
        buyer_fee: int,
        seller_fee: int,
    ) -> None:
        """One trade, exactly as these four transfers in turn (with one wallet lookup each): the buyer's locked
        ``quote`` to the seller, the seller's locked ``base`` to the buyer, then the buyer's ``buyer_fee`` base
        and the seller's ``seller_fee`` quote to ``FEE_ACCOUNT``. ``base`` and ``quote`` must be positive."""
        b = self._wallets[buyer]
        s = self._wallets[seller]
        left = b.locked.get(quote_asset, 0) - quote
        if left < 0:
            raise LedgerError(f"{buyer!r} has {left + quote} locked {quote_asset}, cannot pay {quote}")
        b.locked[quote_asset] = left
        s.free[quote_asset] = s.free.get(quote_asset, 0) + quote
        left = s.locked.get(base_asset, 0) - base
        if left < 0:
            raise LedgerError(f"{seller!r} has {left + base} locked {base_asset}, cannot pay {base}")
        s.locked[base_asset] = left
        b.free[base_asset] = b.free.get(base_asset, 0) + base
        if b.tracked or s.tracked:
            for key in ((buyer, quote_asset), (seller, quote_asset), (seller, base_asset), (buyer, base_asset)):
                if self._wallets[key[0]].tracked:
                    self._dirty[key] = None
        self.transfer(buyer, FEE_ACCOUNT, base_asset, buyer_fee)
        self.transfer(seller, FEE_ACCOUNT, quote_asset, seller_fee)

    def free(self, account: AccountId, asset: str) -> int:
        return self._wallets[account].free.get(asset, 0)

    def locked(self, account: AccountId, asset: str) -> int:
        return self._wallets[account].locked.get(asset, 0)

    def balance(self, account: AccountId, asset: str) -> Balance:
        wallet = self._wallets[account]
        return Balance(wallet.free.get(asset, 0), wallet.locked.get(asset, 0))

    def balances(self, account: AccountId) -> dict[str, Balance]:
        """Every asset the account has ever held, sorted by asset name."""
        wallet = self._wallets[account]
        assets = sorted(set(wallet.free) | set(wallet.locked))
        return {a: Balance(wallet.free.get(a, 0), wallet.locked.get(a, 0)) for a in assets}

    def total(self, asset: str) -> int:
        """Free + locked ``asset`` summed over every account, the fee account included."""
        return sum(w.free.get(asset, 0) + w.locked.get(asset, 0) for w in self._wallets.values())

    def deposited(self, asset: str) -> int:
        """All ``asset`` ever deposited: equals ``total(asset)`` while the ledger is sound."""
        return self._deposited.get(asset, 0)

    def assets(self) -> list[str]:
        return sorted(self._deposited)

    def has_dirty(self) -> bool:
        """True if a tracked balance changed since the last ``drain_dirty``."""
        return bool(self._dirty)

    def drain_dirty(self) -> list[tuple[AccountId, str]]:
        """Tracked ``(account, asset)`` pairs changed since the last drain, in first-change order."""
        if not self._dirty:
            return []
        dirty = list(self._dirty)
        self._dirty.clear()
        return dirty
