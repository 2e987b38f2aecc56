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
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/site.conf;
}}
"""


def site_for(ports: list[int], listen: int) -> str:
    """The shipped site file with its two example upstream servers replaced by `ports`, listening on `listen`."""
    text = SITE.read_text()
    example = re.compile(r"^(\s*)server 127\.0\.0\.1:800[12]( .*)$", re.MULTILINE)
    first = example.search(text)
    if first is None or len(example.findall(text)) != 2:
        raise RuntimeError(f"{SITE}: the upstream no longer lists the two example servers")
    servers = "\n".join(f"{first.group(1)}server 127.0.0.1:{port}{first.group(2)}" for port in ports)
    text = example.sub("", text)
    text = text[: first.start()] + servers + text[first.start() :]
    text, replaced = re.subn(r"listen 80;", f"listen 127.0.0.1:{listen};", text)
    if replaced != 1:
        raise RuntimeError(f"{SITE}: no `listen 80;` to move")
    return text


def write_config(
    folder: Path, ports: list[int], listen: int, *, workers: int = 1, connections: int = 256, rlimit: int = 1024
) -> list[str]:
    """Write the wrapped site file into `folder`; return the nginx command line that runs it."""
    if NGINX is None:
        raise RuntimeError("needs Debian's nginx (apt-get install nginx-light)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "site.conf").write_text(site_for(ports, listen))
    config = MAIN.format(dir=folder, workers=workers, connections=connections, rlimit=rlimit)
    (folder / "nginx.conf").write_text(config)
    return [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf")]
