"""The `aotc` console command. It lives outside the aotc package on purpose: importing aotc loads
numpy, the flatbuffer schema and the code generator (about a second), and an interrupt meanwhile
must still be one line and the signal's exit status, not a traceback (aotc.cli handles the rest)."""
import signal
import sys

_received: list[int] = []


def _interrupt(signum, frame):
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):   # one interrupt is enough: no second one mid-cleanup
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    _received.append(signum)
    raise KeyboardInterrupt(signum)


def _interrupted(signum: int) -> int:
    print(f"aotc: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
    return 128 + signum


def _stop_signals(handler) -> None:
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), handler)


def main() -> int:
    _stop_signals(_interrupt)
    try:
        from aotc.cli import main as cli_main
        return cli_main()
    except KeyboardInterrupt as e:   # before aotc.cli's own handling starts or after it ends
        return _interrupted(e.args[0] if e.args else signal.SIGINT)
    except Exception:
        if _received:   # an interrupt a C extension's import turned into another error (numpy's does)
            return _interrupted(_received[0])
        raise
    finally:
        # The outcome is decided and printed. Python's shutdown resets handlers it installed to the
        # default, so a signal while it unloads numpy would kill the process without its line.
        _stop_signals(signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(main())
