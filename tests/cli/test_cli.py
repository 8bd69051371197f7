#!/usr/bin/env python3
"""End-to-end tests of the neonflow command-line tool against the emulator.

    test_cli.py GROUP NEONFLOW_EXE EMULATOR_EXE

GROUP is one of: workflow, resources, errors, tty, secrets, fields, previews, connection. Prints TAP. Every command runs
with a time limit, the emulators bind 127.0.0.1 only and are killed on exit.
Python standard library only.
"""
import signal
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import cli_common  # noqa: E402 (reads GROUP, CLI, EMU from sys.argv)
from cli_common import GROUP, cleanup, tap  # noqa: E402
from cli_errors import group_errors, group_tty  # noqa: E402
from cli_fleet import group_fleet  # noqa: E402
from cli_previews import group_connection, group_previews  # noqa: E402
from cli_secrets import group_fields, group_secrets  # noqa: E402
from cli_workflow import group_resources, group_workflow  # noqa: E402


def main():
    try:
        {"workflow": group_workflow, "resources": group_resources, "errors": group_errors,
         "tty": group_tty, "secrets": group_secrets, "fields": group_fields,
         "previews": group_previews, "connection": group_connection, "fleet": group_fleet}[GROUP]()
    except Exception as e:  # report, do not hang
        tap(False, "unexpected exception", repr(e))
    finally:
        cleanup()
    print("1..%d" % cli_common._count)
    return 1 if cli_common._failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: (cleanup(), sys.exit(1)))
    sys.exit(main())
