"""The `aotc` console command. It lives outside the aotc package on purpose: importing aotc loads
numpy, the flatbuffer schema and the code generator (about a second), and an interrupt meanwhile
must still be one line and the signal's exit status, not a traceback (aotc.cli handles the rest)."""
import signal
import sys


def _interrupt(signum, frame):
    raise KeyboardInterrupt(signum)


def main() -> int:
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _interrupt)
    try:
        from aotc.cli import main as cli_main
    except KeyboardInterrupt as e:
        signum = e.args[0] if e.args else signal.SIGINT
        print(f"aotc: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
        return 128 + signum
    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
