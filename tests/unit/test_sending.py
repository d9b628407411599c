"""send_check installs a last-moment check for the writes its task sends, and removes it on leaving."""

from __future__ import annotations

import pytest

from bot.core.errors import BotError, ErrorCode
from bot.core.sending import check_before_send, send_check


def _refuse() -> None:
    raise BotError(ErrorCode.HALTED, "guard fired")


def test_the_check_runs_inside_the_block_only() -> None:
    with send_check(_refuse), pytest.raises(BotError):
        check_before_send()
    check_before_send()  # removed on leaving


def test_nested_blocks_restore_the_outer_check() -> None:
    with send_check(_refuse):
        with send_check(None):
            check_before_send()
        with pytest.raises(BotError):
            check_before_send()


def test_one_instance_cannot_be_entered_twice() -> None:
    check = send_check(_refuse)
    with check, pytest.raises(RuntimeError, match="not reentrant"):
        check.__enter__()
    check_before_send()  # the check did not leak past the block
