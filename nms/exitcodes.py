"""The exit codes of every ``nms`` command, one meaning each (listed in ``nms --help`` and the README)."""

from __future__ import annotations

OK = 0  # done
FAILED = 1  # the job ran and failed (a device did not answer with --once, a backup was refused, ...)
USAGE = 2  # the command line is wrong (argparse's own code)
CONFIG = 3  # a configuration file is invalid: every problem is printed as file:line: name: message
SECRET = 4  # a secret the configuration needs is missing or unreadable
UNAVAILABLE = 5  # a port to listen on is taken, or a service it needs does not answer
OUTPUT_CLOSED = 141  # the reader of the output went away (e.g. `| head`): 128 + SIGPIPE, as a shell reports it
INTERRUPTED = 130  # Ctrl-C: 128 + SIGINT

HELP = f"""\
exit codes:
  {OK}    done
  {FAILED}    the job failed (devices unreachable with --once, a backup or restore refused, ...)
  {USAGE}    wrong command line
  {CONFIG}    invalid configuration (every problem printed as file:line: name: message)
  {SECRET}    a secret is missing or unreadable
  {UNAVAILABLE}    a port is taken or a needed service does not answer
  {INTERRUPTED}  interrupted (Ctrl-C)
  {OUTPUT_CLOSED}  the output was closed early (e.g. piped into head)
"""
