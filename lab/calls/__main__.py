"""``python -m lab.calls``: the lab's simulated callers (see :mod:`lab.calls.process`)."""

from lab.calls.process import main

if __name__ == "__main__":
    raise SystemExit(main())
