"""Stop signals as exceptions: SIGTERM and SIGHUP act as Ctrl-C does, and can be held back."""

from __future__ import annotations

import os
import signal

import pytest

from qbench import interruption
from qbench.interruption import Interrupted

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")


@pytest.mark.parametrize(("name", "code"), [("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 129)])
def test_each_stop_signal_raises_interrupted_with_the_shells_exit_code(name, code):
    with pytest.raises(Interrupted) as caught, interruption.handling():
        os.kill(os.getpid(), getattr(signal, name))
        signal.pause()  # not reached: the handler raises first
    assert caught.value.name == name and caught.value.exit_code == code
    assert isinstance(caught.value, KeyboardInterrupt)  # code that handles Ctrl-C handles it too
    assert interruption.signal_name(caught.value) == name and interruption.exit_code(caught.value) == code


def test_the_previous_handlers_come_back():
    before = signal.getsignal(signal.SIGTERM)
    with interruption.handling():
        assert signal.getsignal(signal.SIGTERM) is not before
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_plain_keyboard_interrupt_counts_as_sigint():
    assert interruption.exit_code(KeyboardInterrupt()) == 130
    assert interruption.signal_name(KeyboardInterrupt()) == "SIGINT"


def test_deferred_holds_a_signal_until_the_block_ends():
    finished = []
    with pytest.raises(Interrupted) as caught, interruption.handling():
        with interruption.deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGHUP)
            finished.append("the writes")  # runs to the end despite both signals
    assert finished == ["the writes"]
    assert caught.value.name == "SIGTERM"  # the first one


def test_deferred_without_a_signal_raises_nothing():
    with interruption.handling(), interruption.deferred():
        pass
