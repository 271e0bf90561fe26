"""Debian's headless Chromium for the tests that render a page (the report, the asv site)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium_command(profile: Path, *extra: str) -> list[str]:
    """The headless Chromium command line, with a fresh profile and no network chatter.

    Parameters
    ----------
    profile
        A scratch folder for the browser's profile.
    *extra
        More flags (``--dump-dom``, ``--screenshot=...``) before the URL.

    Returns
    -------
    list of str
        The command, without the URL.
    """
    if CHROMIUM is None:
        raise RuntimeError("Debian chromium is not installed")
    return [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=10000",
        "--enable-logging=stderr",
        "--v=0",
        *extra,
    ]


def dump_dom(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    """Load ``url`` in headless Chromium and return the run whose stdout is the DOM after the page's scripts.

    Parameters
    ----------
    url
        What to open (a ``file://`` URI).
    profile
        A scratch folder for the browser's profile.
    *extra
        More flags.

    Returns
    -------
    subprocess.CompletedProcess
        stdout: the serialized DOM; stderr: the browser's log (console messages included).
    """
    command = [*chromium_command(profile, *extra), "--dump-dom", url]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def title(dom: str) -> str:
    """The ``<title>`` of a dumped DOM (where a page's injected check writes its answer)."""
    return dom.split("<title>", 1)[1].split("</title>", 1)[0]


#: Debian's copies (packages libjs-jquery, libjs-jquery-flot, libjs-jquery-stupidtable, libjs-bootstrap,
#: node-blueimp-md5) of the scripts an asv site loads from CDNs; flot's pack holds its plugins too.
DEBIAN_SCRIPTS = {
    "code.jquery.com/jquery-": Path("/usr/share/javascript/jquery/jquery.min.js"),
    "flot/0.8.3/jquery.flot.min.js": Path("/usr/share/javascript/jquery-flot/jquery.flot.pack.js"),
    "stupidtable": Path("/usr/share/javascript/jquery-stupidtable/stupidtable.min.js"),
    "blueimp-md5": Path("/usr/share/javascript/blueimp-md5/md5.min.js"),
    "bootstrap.min.js": Path("/usr/share/javascript/bootstrap/js/bootstrap.min.js"),
    "bootstrap.min.css": Path("/usr/share/javascript/bootstrap/css/bootstrap.min.css"),
}
DEBIAN_SCRIPTS_MISSING = [str(path) for path in DEBIAN_SCRIPTS.values() if not path.exists()]
_REMOTE = re.compile(r'<script[^>]*src="https://[^"]*"[^>]*></script>|<link[^>]*href="https://[^"]*"[^>]*>')


def offline(page: str) -> str:
    """An asv site's ``index.html`` that loads its scripts from Debian's packages instead of CDNs.

    Each remote ``<script>``/``<link>`` whose URL matches :data:`DEBIAN_SCRIPTS`
    points at the local file (its integrity attributes dropped); the others
    (flot's plugins, in Debian's pack already; orderBars, which line graphs do
    not use) are removed.

    Parameters
    ----------
    page
        The text of the site's ``index.html``.

    Returns
    -------
    str
        The page, needing no network.
    """

    def local(match: re.Match) -> str:
        tag = match.group(0)
        url = re.search(r'(?:src|href)="(https://[^"]+)"', tag).group(1)
        for key, path in DEBIAN_SCRIPTS.items():
            if key in url:
                tag = re.sub(r'\s(integrity|crossorigin|referrerpolicy)="[^"]*"', "", tag)
                return tag.replace(url, path.as_uri())
        return ""

    return _REMOTE.sub(local, page)
