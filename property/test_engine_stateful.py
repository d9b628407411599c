"""Stateful property test of the matching engine against a naive reference model.

The model keeps resting orders in one flat list in arrival order and matches by scanning it for the best
price and then the lowest sequence number; balances are tracked as per-account totals, with the locked part
derived from open orders. After every rule the engine must agree with the model (statuses, fills, remaining
quantities, balances), and the invariants hold: no book crossed, fills conserve quantity, locked == what open
orders need, no negative balance, every asset's supply conserved to the atom (fees included). Price-time
priority is checked by requiring each trade to match the model's choice (best price, then oldest order).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, multiple, rule

from exchange_sim.engine.matching import CancelReplaceMode, MatchingEngine
from exchange_sim.engine.types import (
    AccountId,
    ClientOrderId,
    EngineError,
    OrderId,
    OrderStatus,
    OrderType,
    PlaceRequest,
    PlaceResult,
    Side,
    StpMode,
    SymbolSpec,
    TimeInForce,
    fee_atoms,
)

pytestmark = pytest.mark.property

# 1 tick-lot = 1 quote atom, 1 lot = 100 base atoms: fees of 0.1 % round up on almost every fill.
SPECS = {
    name: SymbolSpec(
        symbol=name,
        base_asset=base,
        quote_asset="Q",
        tick_size=Decimal("0.01"),
        step_size=Decimal("0.000001"),
        min_notional=Decimal("0.000003"),  # 300 atoms: small orders are refused
        min_price_ticks=90,
        max_price_ticks=110,
    )
    for name, base in (("XQ", "X"), ("YQ", "Y"))
}
ACCOUNTS = ("a", "b", "c")
FEES = {"c": (-200, 700)}  # maker rebate and a lower taker fee for account c
START = {"X": 3_000, "Y": 3_000, "Q": 6_000}
FEE = MatchingEngine.FEE_ACCOUNT
INF = 1 << 62

accounts = st.sampled_from(ACCOUNTS)
symbols = st.sampled_from(sorted(SPECS))
sides = st.sampled_from(["BUY", "SELL"])
prices = st.integers(95, 105)
qtys = st.integers(1, 12)
stps = st.sampled_from(["NONE", "EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"])
tifs = st.sampled_from(["GTC", "GTC", "IOC", "FOK"])
cids = st.sampled_from([None, None, "c1", "c2"])


@dataclass
class MOrder:
    oid: int
    account: str
    symbol: str
    side: str
    price: int | None
    qty: int
    cid: str
    executed: int = 0
    status: str = "NEW"

    @property
    def remaining(self) -> int:
        return self.qty - self.executed


class Model:
    """The naive reference: a flat list of resting orders and per-account asset totals."""

    def __init__(self) -> None:
        self.resting: list[MOrder] = []  # arrival order is time priority
        self.orders: dict[int, MOrder] = {}
        self.total: dict[tuple[str, str], int] = {}
        self.next_oid = 1
        for account in ACCOUNTS:
            for asset, atoms in START.items():
                self.total[(account, asset)] = atoms

    def locked(self, account: str, asset: str) -> int:
        need = 0
        for o in self.resting:
            spec = SPECS[o.symbol]
            if o.account != account:
                continue
            if o.side == "BUY" and asset == spec.quote_asset:
                assert o.price is not None
                need += o.price * o.remaining * spec.quote_atoms_per_tick_lot
            elif o.side == "SELL" and asset == spec.base_asset:
                need += o.remaining * spec.base_atoms_per_lot
        return need

    def free(self, account: str, asset: str) -> int:
        return self.total.get((account, asset), 0) - self.locked(account, asset)

    def sweep(
        self,
        *,
        symbol: str,
        side: str,
        account: str,
        stp: str,
        limit: int | None,
        qty: int | None,
        quote: int | None,
    ) -> tuple[list[tuple[str, MOrder, int]], str]:
        """What a taker would do, as ("fill", maker, lots) / ("expire", maker, 0) steps, and why it stops."""
        k = SPECS[symbol].quote_atoms_per_tick_lot
        left = {o.oid: o.remaining for o in self.resting}
        gone: set[int] = set()
        steps: list[tuple[str, MOrder, int]] = []
        remaining = INF if qty is None else qty
        spent = 0
        while True:
            crossing = [
                o
                for o in self.resting
                if o.symbol == symbol
                and o.side != side
                and o.oid not in gone
                and left[o.oid] > 0
                and (limit is None or (o.price <= limit if side == "BUY" else o.price >= limit))  # type: ignore[operator]
            ]
            if not crossing:
                return steps, "BOOK"
            best = min(crossing, key=lambda o: (o.price if side == "BUY" else -o.price, o.oid))  # type: ignore[operator]
            if stp != "NONE" and best.account == account:
                if stp in ("EXPIRE_MAKER", "EXPIRE_BOTH"):
                    gone.add(best.oid)
                    steps.append(("expire", best, 0))
                if stp in ("EXPIRE_TAKER", "EXPIRE_BOTH"):
                    return steps, "STP"
                continue
            assert best.price is not None
            n = min(remaining, left[best.oid])
            fit = -1
            if quote is not None:
                fit = (quote - spent) // (best.price * k)
                if fit == 0:
                    return steps, "QUOTE"
                n = min(n, fit)
            steps.append(("fill", best, n))
            left[best.oid] -= n
            remaining -= n
            spent += best.price * n * k
            if remaining == 0:
                return steps, "DONE"
            if n == fit:
                return steps, "QUOTE"

    def fill(self, taker: MOrder, maker: MOrder, lots: int) -> tuple[int, int, int, int]:
        spec = SPECS[taker.symbol]
        assert maker.price is not None
        quote = maker.price * lots * spec.quote_atoms_per_tick_lot
        base = lots * spec.base_atoms_per_lot
        maker_ppm = FEES.get(maker.account, (spec.maker_fee_ppm, 0))[0]
        taker_ppm = FEES.get(taker.account, (0, spec.taker_fee_ppm))[1]
        maker_fee = fee_atoms(base if maker.side == "BUY" else quote, maker_ppm)
        taker_fee = fee_atoms(base if taker.side == "BUY" else quote, taker_ppm)
        buyer, seller = (taker, maker) if taker.side == "BUY" else (maker, taker)
        b_fee, s_fee = (taker_fee, maker_fee) if taker.side == "BUY" else (maker_fee, taker_fee)
        t = self.total
        t[(buyer.account, "Q")] -= quote
        t[(seller.account, "Q")] += quote - s_fee
        t[(seller.account, spec.base_asset)] -= base
        t[(buyer.account, spec.base_asset)] += base - b_fee
        t[(FEE, spec.base_asset)] = t.get((FEE, spec.base_asset), 0) + b_fee
        t[(FEE, "Q")] = t.get((FEE, "Q"), 0) + s_fee
        for o in (maker, taker):
            o.executed += lots
            o.status = "PARTIALLY_FILLED"
        if maker.remaining == 0:
            maker.status = "FILLED"
            self.resting.remove(maker)
        return maker.oid, maker.price, lots, maker_fee


class EngineMachine(RuleBasedStateMachine):
    orders = Bundle("orders")

    def __init__(self) -> None:
        super().__init__()
        self.now = 0
        self.engine = MatchingEngine(SPECS.values(), clock_us=self._clock)
        for account in ACCOUNTS:
            maker, taker = FEES.get(account, (None, None))
            self.engine.open_account(AccountId(account), START, maker_fee_ppm=maker, taker_fee_ppm=taker)
        self.model = Model()
        self.trade_lots: dict[int, int] = {}  # order id -> lots over all trades it took part in

    def _clock(self) -> int:
        self.now += 1
        return self.now

    # -- the model's prediction of one place --
    def _expect(self, req: PlaceRequest) -> tuple[int, MOrder | None, list[tuple[int, int, int, int]]]:
        """Apply ``req`` to the model: (error code or 0, the order, expected trades)."""
        m, spec = self.model, SPECS[req.symbol]
        side, acct, stp = str(req.side), str(req.account), str(req.stp_mode)
        k, lot = spec.quote_atoms_per_tick_lot, spec.base_atoms_per_lot
        if req.price_ticks is not None and req.qty_lots is not None:  # noqa: SIM102
            if req.price_ticks * req.qty_lots * k < spec.min_notional_atoms:
                return -1013, None, []
        cid = req.client_order_id or f"sim{m.next_oid}"
        if any(o.account == acct and o.symbol == req.symbol and o.cid == cid for o in m.resting):
            return -2010, None, []
        if req.type is OrderType.LIMIT_MAKER:
            p = req.price_ticks
            if any(
                o.symbol == req.symbol
                and o.side != side
                and (o.price <= p if side == "BUY" else o.price >= p)  # type: ignore[operator]
                for o in m.resting
            ):
                return -2010, None, []
        steps, stop = m.sweep(
            symbol=req.symbol,
            side=side,
            account=acct,
            stp=stp,
            limit=req.price_ticks,
            qty=req.qty_lots,
            quote=req.quote_qty_atoms,
        )
        fills = [(mk, n) for kind, mk, n in steps if kind == "fill"]
        lots = sum(n for _, n in fills)
        if req.type is not OrderType.MARKET:
            assert req.price_ticks is not None and req.qty_lots is not None
            asset, need = ("Q", req.price_ticks * req.qty_lots * k) if side == "BUY" else (spec.base_asset, 0)
            if side == "SELL":
                need = req.qty_lots * lot
        elif side == "BUY":
            asset = "Q"
            need = req.quote_qty_atoms or sum(mk.price * n * k for mk, n in fills)  # type: ignore[operator]
        else:
            asset, need = spec.base_asset, (req.qty_lots or lots) * lot
        if m.free(acct, asset) < need:
            return -2010, None, []
        order = MOrder(m.next_oid, acct, req.symbol, side, req.price_ticks, req.qty_lots or 0, cid)
        m.next_oid += 1
        m.orders[order.oid] = order
        if req.time_in_force is TimeInForce.FOK and lots < (req.qty_lots or 0):
            order.status = "EXPIRED"
            return 0, order, []
        trades = []
        for kind, maker, n in steps:
            if kind == "expire":
                maker.status = "EXPIRED_IN_MATCH"
                m.resting.remove(maker)
            else:
                trades.append(m.fill(order, maker, n))
        if req.quote_qty_atoms is not None:
            order.qty = order.executed
        if stop == "STP":
            order.status = "EXPIRED_IN_MATCH"
        elif order.qty and order.remaining == 0 and (req.quote_qty_atoms is None or stop == "QUOTE"):
            order.status = "FILLED"
        elif req.type is not OrderType.MARKET and req.time_in_force is TimeInForce.GTC:
            m.resting.append(order)
        else:
            order.status = "EXPIRED"
        return 0, order, trades

    def _place(self, req: PlaceRequest) -> PlaceResult | None:
        code, expected, trades = self._expect(req)
        try:
            result = self.engine.place(req)
        except EngineError as err:
            assert int(err.code) == code, (err, code)
            return None
        assert code == 0, f"engine accepted what the model rejects with {code}"
        assert expected is not None
        got = [(t.maker_order_id, t.price_ticks, t.qty_lots, t.maker_fee_atoms) for t in result.trades]
        assert got == trades, (got, trades)
        order = result.order
        assert (order.order_id, order.status, order.executed_qty_lots) == (
            expected.oid,
            OrderStatus(expected.status),
            expected.executed,
        )
        for t in result.trades:
            assert t.quote_atoms == t.price_ticks * t.qty_lots * SPECS[t.symbol].quote_atoms_per_tick_lot
            for oid in (t.maker_order_id, t.taker_order_id):
                self.trade_lots[oid] = self.trade_lots.get(oid, 0) + t.qty_lots
        return result

    def _ids(self, result: PlaceResult | None) -> object:
        return multiple() if result is None else multiple(int(result.order.order_id))

    # -- rules --
    @rule(
        target=orders,
        account=accounts,
        symbol=symbols,
        side=sides,
        price=prices,
        qty=qtys,
        tif=tifs,
        stp=stps,
        cid=cids,
    )
    def place_limit(
        self,
        *,
        account: str,
        symbol: str,
        side: str,
        price: int,
        qty: int,
        tif: str,
        stp: str,
        cid: str | None,
    ) -> object:
        req = PlaceRequest(
            account=AccountId(account),
            symbol=symbol,
            side=Side(side),
            type=OrderType.LIMIT,
            price_ticks=price,
            qty_lots=qty,
            time_in_force=TimeInForce(tif),
            stp_mode=StpMode(stp),
            client_order_id=None if cid is None else ClientOrderId(cid),
        )
        return self._ids(self._place(req))

    @rule(target=orders, account=accounts, symbol=symbols, side=sides, price=prices, qty=qtys, cid=cids)
    def place_limit_maker(
        self, *, account: str, symbol: str, side: str, price: int, qty: int, cid: str | None
    ) -> object:
        req = PlaceRequest(
            account=AccountId(account),
            symbol=symbol,
            side=Side(side),
            type=OrderType.LIMIT_MAKER,
            price_ticks=price,
            qty_lots=qty,
            client_order_id=None if cid is None else ClientOrderId(cid),
        )
        return self._ids(self._place(req))

    @rule(
        account=accounts,
        symbol=symbols,
        side=sides,
        qty=st.none() | qtys,
        quote=st.integers(50, 1_500),
        stp=stps,
    )
    def place_market(
        self, *, account: str, symbol: str, side: str, qty: int | None, quote: int, stp: str
    ) -> None:
        req = PlaceRequest(
            account=AccountId(account),
            symbol=symbol,
            side=Side(side),
            type=OrderType.MARKET,
            qty_lots=qty,
            quote_qty_atoms=quote if qty is None else None,
            stp_mode=StpMode(stp),
        )
        self._place(req)

    def _expect_cancel(self, account: str, oid: int) -> MOrder | None:
        order = self.model.orders.get(oid)
        if order is None or order not in self.model.resting or order.account != account:
            return None
        self.model.resting.remove(order)
        order.status = "CANCELED"
        return order

    @rule(oid=consumes(orders), wrong_account=st.booleans())
    def cancel(self, oid: int, wrong_account: bool) -> None:
        owner = self.model.orders[oid]
        account = "b" if wrong_account and owner.account != "b" else owner.account
        expected = self._expect_cancel(account, oid)
        try:
            got = self.engine.cancel(AccountId(account), owner.symbol, order_id=OrderId(oid))
        except EngineError as err:
            assert expected is None and err.code == -2011, err
            return
        assert expected is not None and got.status is OrderStatus.CANCELED

    @rule(
        target=orders,
        oid=orders,
        price=prices,
        qty=qtys,
        allow=st.booleans(),
        reuse_cid=st.booleans(),
    )
    def cancel_replace(self, oid: int, price: int, qty: int, allow: bool, reuse_cid: bool) -> object:
        old = self.model.orders[oid]
        new = PlaceRequest(
            account=AccountId(old.account),
            symbol=old.symbol,
            side=Side(old.side),
            type=OrderType.LIMIT,
            price_ticks=price,
            qty_lots=qty,
            client_order_id=ClientOrderId(old.cid) if reuse_cid else None,
        )
        expected_cancel = self._expect_cancel(old.account, oid)
        mode = CancelReplaceMode.ALLOW_FAILURE if allow else CancelReplaceMode.STOP_ON_FAILURE
        if expected_cancel is None and not allow:
            result = self.engine.cancel_replace(
                AccountId(old.account), old.symbol, new=new, mode=mode, cancel_order_id=OrderId(oid)
            )
            assert isinstance(result.cancel, EngineError) and result.new is None
            return multiple()
        code, expected, trades = self._expect(new)
        result = self.engine.cancel_replace(
            AccountId(old.account), old.symbol, new=new, mode=mode, cancel_order_id=OrderId(oid)
        )
        assert isinstance(result.cancel, EngineError) == (expected_cancel is None)
        if code:
            assert isinstance(result.new, EngineError) and int(result.new.code) == code
            return multiple()
        assert isinstance(result.new, PlaceResult) and expected is not None
        assert result.new.order.order_id == expected.oid and result.new.order.status == expected.status
        got = [(t.maker_order_id, t.price_ticks, t.qty_lots, t.maker_fee_atoms) for t in result.new.trades]
        assert got == trades
        for t in result.new.trades:
            for o in (t.maker_order_id, t.taker_order_id):
                self.trade_lots[o] = self.trade_lots.get(o, 0) + t.qty_lots
        return multiple(int(result.new.order.order_id))

    # -- invariants --
    @invariant()
    def books_are_never_crossed(self) -> None:
        for symbol in SPECS:
            bid, ask = self.engine.best_bid(symbol), self.engine.best_ask(symbol)
            assert bid is None or ask is None or bid[0] < ask[0], (symbol, bid, ask)

    @invariant()
    def open_orders_match_the_model(self) -> None:
        got = sorted(
            (int(o.order_id), o.remaining_lots, str(o.status))
            for a in ACCOUNTS
            for o in self.engine.open_orders(AccountId(a))
        )
        want = sorted((o.oid, o.remaining, o.status) for o in self.model.resting)
        assert got == want

    @invariant()
    def balances_match_the_model_and_locks_match_open_orders(self) -> None:
        for account in ACCOUNTS:
            for asset in START:
                bal = self.engine.balance(AccountId(account), asset)
                locked = self.model.locked(account, asset)
                assert (bal.free_atoms, bal.locked_atoms) == (
                    self.model.total[(account, asset)] - locked,
                    locked,
                )
                assert bal.free_atoms >= 0 and bal.locked_atoms >= 0
            for asset in START:
                assert self.engine.balance(FEE, asset).total_atoms == self.model.total.get((FEE, asset), 0)

    @invariant()
    def every_assets_supply_is_conserved(self) -> None:
        for asset, atoms in START.items():
            assert self.engine.total_supply(asset) == atoms * len(ACCOUNTS)

    @invariant()
    def fills_conserve_quantity(self) -> None:
        for oid, order in self.model.orders.items():
            got = self.engine.get_order(AccountId(order.account), order.symbol, order_id=OrderId(oid))
            assert got.executed_qty_lots == self.trade_lots.get(oid, 0) == order.executed
            assert str(got.status) == order.status
            assert got.status.is_terminal or got.remaining_lots > 0

    @invariant()
    def engine_audit_passes(self) -> None:
        self.engine.audit()


TestEngineStateful = EngineMachine.TestCase
