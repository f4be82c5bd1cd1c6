"""The browser tests' helpers under their old name: they live in tests/support
(servers, browser, waits); this module re-exports them for test files that
import `e2e_support`."""

from support.browser import CHROMIUM_ARGS, CHROMIUM_PATH, PageGuard, launch_chromium
from support.servers import ROOT, AppServer, free_port
from support.waits import wait_until

SERVER_ENV = AppServer.SERVER_ENV

__all__ = [
    "CHROMIUM_ARGS",
    "CHROMIUM_PATH",
    "ROOT",
    "SERVER_ENV",
    "AppServer",
    "PageGuard",
    "free_port",
    "launch_chromium",
    "wait_until",
]
