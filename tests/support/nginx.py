"""Debian's nginx running the shipped deploy/nginx.conf, for the tests and the benchmarks alike.

The site file is used as shipped, with only its upstream servers and its listening port changed; it is
wrapped in a main context that keeps every path inside one folder."""

import os
import re
import shutil
from pathlib import Path

SITE = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)

MAIN = """
user root;
daemon off;
worker_processes {workers};
worker_rlimit_nofile {rlimit};
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections {connections}; }}
http {{
    {access_log}
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/site.conf;
}}
"""


def site_for(ports: list[int], listen: int) -> str:
    """The shipped site file with the two example servers of each upstream replaced by `ports`, listening
    on `listen`."""
    text = SITE.read_text()
    example = re.compile(r"^(\s*)server 127\.0\.0\.1:8001( .*)\n\s*server 127\.0\.0\.1:8002 .*$", re.MULTILINE)

    def servers(pair: re.Match) -> str:
        return "\n".join(f"{pair.group(1)}server 127.0.0.1:{port}{pair.group(2)}" for port in ports)

    text, replaced = example.subn(servers, text)
    if replaced == 0 or replaced != len(re.findall(r"^upstream ", text, re.MULTILINE)):
        raise RuntimeError(f"{SITE}: an upstream no longer lists the two example servers")
    text, replaced = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen};", text)
    if replaced != 1:
        raise RuntimeError(f"{SITE}: no `listen 80;` to move")
    return text


def write_config(
    folder: Path,
    ports: list[int],
    listen: int,
    *,
    workers: int = 1,
    connections: int = 256,
    rlimit: int = 1024,
    routes_log: Path | None = None,
) -> list[str]:
    """Write the wrapped site file into `folder`; return the nginx command line that runs it. With
    `routes_log`, each request's address, status and the servers tried go there (see `routes`)."""
    if NGINX is None:
        raise RuntimeError("needs Debian's nginx (apt-get install nginx-light)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "site.conf").write_text(site_for(ports, listen))
    access_log = f"log_format routes '$request_uri $status $upstream_addr'; access_log {routes_log} routes;"
    config = MAIN.format(
        dir=folder,
        workers=workers,
        connections=connections,
        rlimit=rlimit,
        access_log=access_log if routes_log else "access_log off;",
    )
    (folder / "nginx.conf").write_text(config)
    return [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf")]


def routes(log: Path) -> list[tuple[str, str, list[str]]]:
    """What `routes_log` holds: for each request, its address, its status and the servers tried in turn."""
    found = []
    for line in log.read_text().splitlines():
        uri, status, tried = line.split(" ", 2)
        found.append((uri, status, tried.split(", ")))
    return found
