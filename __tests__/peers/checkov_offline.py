"""Test-only: runs Checkov as its `checkov` command does, and records every attempt to reach the network.

Each DNS lookup, and each connection to anything but a Unix socket, is appended as a JSON line to the
file named by CHECKOV_NETWORK_LOG and then refused, so the tests can assert that there was none
(__tests__/support/checkov.ts). Usage: python checkov_offline.py <checkov arguments>
"""
import json
import os
import socket
import sys
import warnings

NETWORK_LOG = os.environ["CHECKOV_NETWORK_LOG"]


def refuse_network(event, args):
    if event == "socket.getaddrinfo":
        attempt = {"event": event, "host": str(args[0]), "port": str(args[1])}
    elif event == "socket.connect" and args[0].family != socket.AF_UNIX:
        attempt = {"event": event, "address": str(args[1])}
    else:
        return
    with open(NETWORK_LOG, "a", encoding="utf-8") as log:
        log.write(json.dumps(attempt) + "\n")
    raise OSError(f"the tests run Checkov offline: refused {attempt}")


# Installed before Checkov is imported, so its import-time code is covered too; forked workers inherit it.
sys.addaudithook(refuse_network)

from checkov.main import Checkov  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=SyntaxWarning)
    sys.exit(Checkov().run())
