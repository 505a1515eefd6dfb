"""The shipped reverse proxy config (deploy/nginx/) run by a local nginx, as the proxy image runs it.

The image's nginx.conf includes `conf.d/*.conf` in its `http` block, and its entrypoint renders
`site.conf.template` from the environment (`render_site` does the same). `main_config` writes
that shape in a temporary directory, with the site of a deployment (for `nginx -t`) or of a test
(its own port, a test stack's services, the widget's files from the checkout). Tests using it are
skipped where no nginx is installed (Debian: `apt-get install nginx-light`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from polling_support import wait_until
from stack_support import ROOT

from bot.stack import port_open

NGINX_DIR = ROOT / "deploy" / "nginx"
SERVER_CONF = NGINX_DIR / "civic-assistant.conf"
SITE_TEMPLATE = NGINX_DIR / "site.conf.template"
MIME_TYPES = Path("/etc/nginx/mime.types")
TEMP_PATHS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


TOOLS_BIN = ROOT / ".tools" / "bin"  # `make deploy-tools`: kubernetes-validate, hadolint


def require_tool(name: str, install: str) -> str:
    """The path of a deployment-check tool: skipped where it is missing, a failure when CI is set
    (`make test` installs them all, so CI cannot go green without running these checks)."""
    search = os.pathsep.join((str(TOOLS_BIN), os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"))
    found = shutil.which(name, path=search)
    if found:
        return found
    reason = f"{name} is not installed ({install})"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so this test fails instead of being skipped")
    pytest.skip(reason)


def nginx_binary() -> str:
    return require_tool("nginx", "make deploy-tools; Debian: apt-get install nginx-light")


def _temp_paths(nginx: str, directory: Path) -> list[str]:
    """Temp directories of the modules this nginx has, inside `directory` (the defaults are system paths)."""
    built = subprocess.run([nginx, "-V"], capture_output=True, text=True, check=True).stderr
    return [
        f"{name}_temp_path {directory / name};"
        for name in TEMP_PATHS
        if f"--http-{name.replace('_', '-')}-temp-path" in built
    ]


def main_config(directory: Path, site: str) -> Path:
    """nginx.conf in `directory` (as /etc/nginx/ in the image) with our server file and `site`."""
    nginx = nginx_binary()
    (directory / "civic").mkdir(parents=True, exist_ok=True)
    (directory / "conf.d").mkdir(exist_ok=True)
    shutil.copy(SERVER_CONF, directory / "conf.d" / SERVER_CONF.name)
    (directory / "civic" / "site.conf").write_text(site)
    mime = f"include {MIME_TYPES};" if MIME_TYPES.exists() else ""
    # As root the workers would run as "nobody", who cannot read a test's private temp directory.
    user = "user root;" if os.geteuid() == 0 else ""
    temp = "\n  ".join(_temp_paths(nginx, directory))
    conf = directory / "nginx.conf"
    conf.write_text(
        f"""{user}
pid {directory / "nginx.pid"};
error_log {directory / "error.log"} warn;
events {{}}
http {{
  {mime}
  access_log {directory / "access.log"};
  {temp}
  include conf.d/*.conf;
}}
"""
    )
    return conf


def check_config(conf: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on `conf`: syntax, directives, includes."""
    return subprocess.run(
        [nginx_binary(), "-t", "-c", str(conf), "-p", str(conf.parent), "-e", str(conf.parent / "error.log")],
        capture_output=True,
        text=True,
        timeout=30,
    )


def render_site(env: dict[str, str]) -> str:
    """site.conf.template with `$NAME` / `${NAME}` replaced where `env` has NAME, as the image does
    (nginx's own variables, such as $civic_rasa, are left alone)."""

    def value(match: re.Match[str]) -> str:
        return env.get(match.group(2), match.group(0))

    return re.sub(r"\$(\{)?(\w+)(?(1)\})", value, SITE_TEMPLATE.read_text())


def docker_env() -> dict[str, str]:
    """The proxy stage's ENV in the Dockerfile, plus the resolver Docker's /etc/resolv.conf names."""
    stage = (ROOT / "Dockerfile").read_text().split(" AS proxy", 1)[1].split("\nFROM ", 1)[0]
    env_lines = re.search(r"^ENV (.*?)(?<!\\)$", stage, re.M | re.S)
    assert env_lines, "the proxy stage sets no ENV"
    pairs = re.findall(r"(\w+)=(\S+)", env_lines.group(1))
    return {"NGINX_LOCAL_RESOLVERS": "127.0.0.11", **dict(pairs)}


def local_site(port: int, rasa_url: str, console_url: str, static_root: Path) -> str:
    """The rendered site for this machine: its own port and the widget's files from `static_root`."""
    site = render_site(
        {"NGINX_LOCAL_RESOLVERS": "127.0.0.1", "CIVIC_RASA_URL": rasa_url, "CIVIC_CONSOLE_URL": console_url}
    )
    site, listens = re.subn(r"^listen \d+ ", f"listen 127.0.0.1:{port} ", site, flags=re.M)
    site, statics = re.subn(
        r"^set \$civic_static .*;$", f"set $civic_static {static_root};", site, flags=re.M
    )
    assert listens == statics == 1, site
    return site


@contextmanager
def serve_proxy(directory: Path, port: int, rasa_url: str, console_url: str) -> Iterator[str]:
    """nginx with the shipped server config in front of `rasa_url` and `console_url`; yields its URL.

    The widget's files are served from the checkout (bot/webchat/static), as the image copies them.
    """
    static = directory / "static"
    static.mkdir(parents=True, exist_ok=True)
    (static / "webchat").symlink_to(ROOT / "bot" / "webchat" / "static")
    conf = main_config(directory, local_site(port, rasa_url, console_url, static))
    checked = check_config(conf)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        [nginx_binary(), "-c", str(conf), "-p", str(directory), "-e", str(directory / "error.log"),
         "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_until(lambda: port_open("127.0.0.1", port), 30, "nginx did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(15)
