"""``mmbot exchange serve --accounts FILE``: more accounts besides the demo one, errors that name the field."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from exchange_sim.server.cli import ServeError, server_config
from exchange_sim.server.config import DEMO_ACCOUNT, AccountsFileError, load_accounts
from mmbot.cli import app
from tests.server_support import now_ms, running_server, signature

ROOT = Path(__file__).parents[2]
GOOD = """accounts:
  - name: alice
    api_key_env: ALICE_KEY
    api_secret_env: ALICE_SECRET
    balances: {USDT: 250000, btc: "2.5"}
  - {name: bob, api_key: bob-key, api_secret: bob-secret, taker_fee_bps: 7.5}
"""


def write(tmp_path: Path, text: str, name: str = "accounts.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_accounts_read_keys_from_values_or_environment_variables(tmp_path: Path) -> None:
    alice, bob = load_accounts(write(tmp_path, GOOD), {"ALICE_KEY": "k-alice", "ALICE_SECRET": "s-alice"})
    assert (alice.name, alice.api_key, alice.secret) == ("alice", "k-alice", "s-alice")
    assert dict(alice.balances) == {"USDT": Decimal(250000), "BTC": Decimal("2.5")}
    assert (alice.maker_fee_ppm, alice.taker_fee_ppm) == (DEMO_ACCOUNT.maker_fee_ppm, DEMO_ACCOUNT.taker_fee_ppm)
    assert (bob.api_key, bob.secret, bob.taker_fee_ppm, dict(bob.balances)) == ("bob-key", "bob-secret", 750, {})


def test_a_json_list_is_an_accounts_file_too(tmp_path: Path) -> None:
    path = write(tmp_path, '[{"name": "carol", "api_key": "c", "api_secret": "s", "balances": {"ETH": 3}}]',
                 "accounts.json")
    (carol,) = load_accounts(path, {})
    assert carol.balances["ETH"] == Decimal(3)


@pytest.mark.parametrize(("text", "env", "expected"), [
    (GOOD, {"ALICE_KEY": "k"}, "accounts[0].api_secret_env: environment variable ALICE_SECRET is not set"),
    ("- {name: a, api_key: k, api_key_env: K, api_secret: s}\n", {}, "accounts[0]: give exactly one of api_key"),
    ("- {name: a, api_key: k, api_secret: s, balances: {USDT: -1}}\n", {}, "accounts[0].balances.USDT: must be"),
    ("- {name: a, api_key: k, api_secret: s, balances: {USDT: lots}}\n", {}, "accounts[0].balances.USDT: a number"),
    ("- {name: a, api_key: k, api_secret: s, colour: red}\n", {}, "accounts[0]: unknown key 'colour'"),
    ("- {name: demo, api_key: k, api_secret: s}\n", {}, "accounts[0].name: 'demo' is already used"),
    ("- {name: a, api_key: k, api_secret: s}\n- {name: b, api_key: k, api_secret: t}\n", {},
     "accounts[1].api_key: the key of 'b' is already used"),
    ("- {api_key: k, api_secret: s}\n", {}, "accounts[0].name: a non-empty string is required"),
    ("- {name: a, api_key: k, api_secret: s, maker_fee_bps: 0.001}\n", {}, "accounts[0].maker_fee_bps"),
    ("accounts: {}\n", {}, "expected a non-empty list of accounts"),
    ("- {name: a\n  api_key: k\n", {}, "not valid YAML/JSON at line"),
])
def test_a_bad_accounts_file_names_the_file_and_the_field(tmp_path: Path, text: str, env: dict[str, str],
                                                         expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(AccountsFileError) as error:
        load_accounts(path, env)
    assert str(error.value).startswith(f"{path}: ")
    assert expected in str(error.value)
    assert "\n" not in str(error.value)


def test_serve_with_a_missing_accounts_file_is_one_line_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["exchange", "serve", "--accounts", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {tmp_path / 'none.yaml'}: cannot be read: No such file or directory"


def test_server_config_refuses_a_bad_accounts_file_with_serve_error(tmp_path: Path) -> None:
    with pytest.raises(ServeError, match="api_key_env: environment variable ALICE_KEY is not set"):
        server_config(0, 7, None, ["BTCUSDT"], None, write(tmp_path, GOOD))


async def test_an_account_from_the_file_trades_with_its_own_key_and_balances(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALICE_KEY", "k-alice")
    monkeypatch.setenv("ALICE_SECRET", "s-alice")
    config = server_config(0, 11, None, ["BTCUSDT"], None, write(tmp_path, GOOD))
    async with running_server(config) as server:
        query = f"timestamp={now_ms()}"
        status, account, _ = await server.call("GET", "/api/v3/account",
                                               f"{query}&signature={signature('s-alice', query)}",
                                               api_key="k-alice")
        assert status == 200, account
        balances = {b["asset"]: Decimal(b["free"]) for b in account["balances"]}  # type: ignore[index]
        assert balances["USDT"] == Decimal(250000) and balances["BTC"] == Decimal("2.5")
        status, _, _ = await server.call("GET", "/api/v3/account", f"{query}&signature={signature('nope', query)}",
                                         api_key="k-alice")
        assert status == 400  # alice's key with another secret is refused
        status, demo, _ = await server.signed("GET", "/api/v3/account", {})
        assert status == 200 and demo != account  # the demo account is still there, and separate


def test_serve_on_port_0_prints_the_port_it_bound_serves_it_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    accounts = write(tmp_path, "- {name: bob, api_key: bob-key, api_secret: bob-secret, balances: {USDT: 5}}\n")
    process = subprocess.Popen([sys.executable, "-m", "mmbot.cli", "exchange", "serve", "--port", "0", "--accounts",
                                str(accounts)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
        assert lines[0] == "seed 7\n"
        match = re.match(r"exchange_sim server on http://127\.0\.0\.1:(\d+) ", lines[1])
        assert match is not None and int(match.group(1)) > 0, lines
        assert lines[3].startswith("account bob: api key bob-key  balances USDT 5")
        with urllib.request.urlopen(f"http://127.0.0.1:{match.group(1)}/api/v3/ping", timeout=10) as resp:
            assert resp.status == 200
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "stopping" in out and "Traceback" not in err
