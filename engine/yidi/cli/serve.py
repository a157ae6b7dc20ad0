"""`yidi serve`: the HTTP service, started from the command line.

    yidi serve [--policies DIR] [--host 127.0.0.1] [--port 8000] [--token-file FILE]
               [--audit-log FILE] [--fsync always|interval|never] [--max-body BYTES] [--check test]
               [--limit-concurrency N] [--header-timeout S] [--body-timeout S] [--timeout-keep-alive S]
               [--max-header-bytes BYTES] [--docs-site DIR | --docs-url URL]

The tree is checked at startup exactly as a reload would check it; an
invalid tree stops the server from starting (exit 1, diagnostics printed)
rather than serving half a policy. The server binds its own socket so that
`--port 0` can pick a free port and the first line on standard output can
say which: `yidi serve: listening on http://127.0.0.1:PORT …` — tests and
supervisors read it. It binds 127.0.0.1 unless told otherwise.

Slow or too many clients: a request's headers must arrive within
--header-timeout and its body within --body-timeout (yidi.server.deadlines),
an idle kept-alive connection is closed after --timeout-keep-alive, and past
--limit-concurrency connections new requests are answered 503 at once.

It needs the `serve` extra (Starlette, uvicorn); without it, it says so and
exits 1 instead of failing on an import.
"""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import pathlib
import socket
import sys
from typing import Any

from .common import find_policy_root, print_diagnostics

TOKEN_ENV = "YIDI_ADMIN_TOKEN"
MIN_TOKEN = 16
# Defaults against large, slow and numerous requests (docs/server.md, "Slow and numerous clients").
MAX_BODY = 64 * 1024  # one document: a claim is under 1 KiB; parsing is one uninterruptible call, so keep it short
LIMIT_CONCURRENCY = 512
HEADER_TIMEOUT = 10.0
BODY_TIMEOUT = 30.0
KEEP_ALIVE = 5.0
MAX_HEADER_BYTES = 16 * 1024  # h11's own default, stated here so it is documented and adjustable
SERVE_MODULES = ("starlette", "uvicorn", "h11", "anyio")  # the serve extra and what it brings


def register(subparsers: Any, common: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("serve", parents=[common], help="以 HTTP 服务提供决定（默认仅监听 127.0.0.1）",
                              description="启动 HTTP 服务：POST /v1/evaluate 等；每个决定写入决定日志；SIGHUP 或 POST /v1/admin/reload 原子地重新加载政策")
    p.add_argument("--host", default="127.0.0.1", help="监听地址（默认 127.0.0.1，仅本机）")
    p.add_argument("--port", type=int, default=8000, help="端口（默认 8000；0 表示任选空闲端口，实际端口打印在第一行）")
    p.add_argument("--token-file", metavar="FILE", help=f"管理令牌文件（或环境变量 {TOKEN_ENV}）；未配置时管理接口停用")
    p.add_argument("--audit-log", metavar="FILE", default="yidi-decisions.jsonl", help="决定日志（JSON Lines，默认 ./yidi-decisions.jsonl）")
    p.add_argument("--fsync", choices=("always", "interval", "never"), default="always",
                   help="决定日志的落盘策略：always 每条决定落盘后才答复（默认）；interval 每隔 --fsync-interval 秒；never 交给操作系统")
    p.add_argument("--fsync-interval", type=float, default=1.0, metavar="SECONDS", help="--fsync interval 的间隔（默认 1 秒）")
    p.add_argument("--max-body", type=_positive(int), default=MAX_BODY, metavar="BYTES",
                   help=f"单个文档（请求体，或批量中的一项）的上限（默认 {MAX_BODY // 1024} KiB），超过答复 413")
    p.add_argument("--max-batch-body", type=int, default=16 << 20, metavar="BYTES", help="批量请求体上限（默认 16 MiB）")
    p.add_argument("--max-batch-items", type=int, default=10_000, metavar="N", help="批量最多项数（默认 10000）")
    p.add_argument("--check", choices=("load", "validate", "test"), default="test",
                   help="启动与重新加载时对政策的检查：load 仅加载编译；validate 同 yidi validate；test 再运行政策测试用例（默认）")
    docs = p.add_mutually_exclusive_group()
    docs.add_argument("--docs-site", metavar="DIR", help="在 /docs/ 提供已生成的文档站点（yidi docs --build 的输出 build/docsite/site）；工作台的规则链接指向它")
    docs.add_argument("--docs-url", metavar="URL", help="文档站点发布在别处时的地址（http(s)://… 或 /…）；工作台的规则链接指向它")
    p.add_argument("--limit-concurrency", type=_positive(int), default=LIMIT_CONCURRENCY, metavar="N",
                   help=f"同时的连接（及处理中的请求）上限，超过时新请求立即答复 503（默认 {LIMIT_CONCURRENCY}）")
    p.add_argument("--header-timeout", type=_positive(float), default=HEADER_TIMEOUT, metavar="SECONDS",
                   help=f"请求行与请求头须在此时间内传完，否则关闭连接（默认 {HEADER_TIMEOUT:g} 秒）")
    p.add_argument("--body-timeout", type=_positive(float), default=BODY_TIMEOUT, metavar="SECONDS",
                   help=f"请求体须在此时间内传完，否则答复 408（默认 {BODY_TIMEOUT:g} 秒）")
    p.add_argument("--timeout-keep-alive", type=_positive(float), default=KEEP_ALIVE, metavar="SECONDS",
                   help=f"保持连接在两次请求之间最长空闲时间（默认 {KEEP_ALIVE:g} 秒）")
    p.add_argument("--max-header-bytes", type=_positive(int), default=MAX_HEADER_BYTES, metavar="BYTES",
                   help=f"请求行与请求头的总长度上限，超过答复 400（默认 {MAX_HEADER_BYTES}）")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="warning", help="服务日志级别（默认 warning）")
    p.set_defaults(func=run)


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be greater than 0: {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


def _missing_extra() -> str | None:
    """The module of the `serve` extra that cannot be imported, if any."""
    import importlib

    for name in SERVE_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            return name
    return None


def _token(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(token, problem): from --token-file, else the environment; too short a token is refused."""
    if args.token_file:
        try:
            token = pathlib.Path(args.token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            return None, f"cannot read --token-file {args.token_file}: {exc.strerror}"
    else:
        token = os.environ.get(TOKEN_ENV, "").strip()
        if not token:
            return None, None
    if len(token) < MIN_TOKEN:
        return None, f"the admin token must be at least {MIN_TOKEN} characters"
    return token, None


def _docs_problem(args: argparse.Namespace) -> str | None:
    if args.docs_site and not (pathlib.Path(args.docs_site) / "index.html").is_file():
        return f"--docs-site {args.docs_site} is not a built docs site (no index.html); build one with: yidi docs --build"
    if args.docs_url and not args.docs_url.startswith(("http://", "https://", "/")):
        return f"--docs-url must start with http://, https:// or /: {args.docs_url!r}"
    return None


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted sockets only when the proto says TCP,
    # and without it every response waits ~40 ms (Nagle against delayed ACK) between headers and body.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)  # listening before the port is announced: early clients queue instead of being refused
    sock.set_inheritable(True)
    return sock


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def run(args: argparse.Namespace) -> int:
    missing = _missing_extra()
    if missing:
        print(f"yidi serve: the HTTP service needs the serve extra (module {missing!r} is not installed); "
              f"install it with: pip install 'yidi[serve]'", file=sys.stderr)
        return 1
    import uvicorn

    from ..audit import AuditError, AuditLog
    from ..server.app import create_app
    from ..server.deadlines import protocol
    from ..server.metrics import Metrics
    from ..server.state import Serving, ServerState, check_tree

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    token, problem = _token(args)
    if problem:
        print(f"yidi serve: {problem}", file=sys.stderr)
        return 2
    docs_problem = _docs_problem(args)
    if docs_problem:
        print(f"yidi serve: {docs_problem}", file=sys.stderr)
        return 2
    root = find_policy_root(args.policies)
    checked = check_tree(root, args.check)
    if not checked.valid or checked.engine is None:
        print_diagnostics(list(checked.diagnostics), args, root)
        print(f"yidi serve: the policies at {root} did not pass the {args.check} check; not serving", file=sys.stderr)
        return 1
    try:
        audit = AuditLog(args.audit_log, fsync=args.fsync, interval=args.fsync_interval)
    except AuditError as exc:
        print(f"yidi serve: {exc}", file=sys.stderr)
        return 1
    if audit.recovery.quarantine is not None:
        print(f"yidi serve: the decision log ended in a torn line from an earlier crash; {audit.recovery.removed} byte(s) "
              f"moved to {audit.recovery.quarantine}", file=sys.stderr)
    from ..audit import now

    state = ServerState(root=root, serving=Serving(checked.engine, checked.engine.revision, now()), audit=audit, metrics=Metrics(),
                        check_level=args.check, token=token, max_body=args.max_body,
                        max_batch_body=args.max_batch_body, max_batch_items=args.max_batch_items, body_timeout=args.body_timeout,
                        docs_site=pathlib.Path(args.docs_site) if args.docs_site else None, docs_url=args.docs_url)
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        audit.close()
        print(f"yidi serve: cannot listen on {args.host}:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    if not _is_loopback(args.host):
        print(f"yidi serve: warning: listening on {args.host}, not only on this machine; put TLS and access control in front", file=sys.stderr)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"yidi serve: listening on http://{shown}:{port} (revision {state.serving.revision}, policies {root}, "
          f"decision log {audit.path}, admin {'enabled' if token else 'disabled'})", flush=True)
    config = uvicorn.Config(create_app(state), log_level=args.log_level, access_log=False, lifespan="on",
                            timeout_graceful_shutdown=10, server_header=False,
                            http=protocol(args.header_timeout, args.body_timeout), limit_concurrency=args.limit_concurrency,
                            timeout_keep_alive=args.timeout_keep_alive, h11_max_incomplete_event_size=args.max_header_bytes)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        audit.close()
        sock.close()
    return 0
