"""A stand-in for the Odoo server, for tests and local development only: NOT Odoo.

It reproduces what this project relies on (README.md beside this file lists each behaviour):
Odoo's command-line options, database initialisation with `-i base`, the refusal to serve an
uninitialised database, /web/health (Odoo >= 15), the HTTP and real-time ports, the filestore
under <data_dir>/filestore/<db>/, the database connections Odoo's processes open and keep, and a
clean stop on SIGTERM.
"""

import argparse
import configparser
import base64
import contextlib
import hashlib
import json
import os
import queue
import select
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2

VERSION = int(os.environ.get("ODOO_VERSION", "17"))
DATA_DIR = "/var/lib/odoo"
# odoo/sql_db.py: a pooled connection idle longer than this is closed at the pool's next borrow.
MAX_IDLE_TIMEOUT = 600
# odoo/service/server.py: how long a cron worker sleeps between polls when nothing wakes it.
CRON_SLEEP_INTERVAL = 60


def log(level, message):
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} {os.getpid()} {level} ? odoo.stand_in: {message}", flush=True)


def parse_args(argv):
    # Odoo's own option names (odoo/tools/config.py); an unknown option fails the start like Odoo.
    p = argparse.ArgumentParser(prog="odoo", allow_abbrev=False)
    p.add_argument("-c", "--config", dest="config")
    p.add_argument("-d", "--database", dest="db_name")
    p.add_argument("--db-filter", dest="dbfilter")
    p.add_argument("-i", "--init", dest="init", default="")
    p.add_argument("-u", "--update", dest="update", default="")
    p.add_argument("--without-demo", dest="without_demo")
    p.add_argument("--stop-after-init", action="store_true")
    p.add_argument("--no-database-list", dest="list_db", action="store_false")
    p.add_argument("--proxy-mode", action="store_true")
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--max-cron-threads", type=int, default=2)
    p.add_argument("--limit-memory-soft", type=int)
    p.add_argument("--limit-memory-hard", type=int)
    p.add_argument("--limit-time-cpu", type=int)
    p.add_argument("--limit-time-real", type=int)
    p.add_argument("--db_maxconn", type=int, default=64)
    p.add_argument("-p", "--http-port", type=int, default=8069)
    p.add_argument("--gevent-port", "--longpolling-port", dest="gevent_port", type=int, default=8072)
    p.add_argument("--data-dir", dest="data_dir", default=DATA_DIR)
    p.add_argument("--db_host")
    p.add_argument("--db_port", type=int, default=5432)
    p.add_argument("--db_user")
    p.add_argument("--db_password")
    return p.parse_args(argv)


class Database:
    def __init__(self, opts):
        self.opts = opts
        self.name = opts.db_name

    def connect(self, dbname=None, process="main", timeout=None):
        # Odoo's connections (odoo/sql_db.py connection_info_for) set no connect_timeout: a slow
        # login (a busy server or pooler) makes the request wait, not fail.
        extra = {"connect_timeout": timeout} if timeout else {}
        return psycopg2.connect(
            **extra,
            application_name=f"odoo-stand-in-{process}",
            host=self.opts.db_host,
            port=self.opts.db_port,
            user=self.opts.db_user,
            password=self.opts.db_password or os.environ.get("PASSWORD", ""),
            dbname=dbname or self.name,
        )

    def wait(self, seconds=30):
        # The official image's wait-for-psql.py: database `postgres`, 30 s.
        deadline = time.time() + seconds
        while True:
            try:
                self.connect("postgres", timeout=5).close()
                return
            except psycopg2.OperationalError as e:
                if time.time() > deadline:
                    log("ERROR", f"Unable to connect to the database: {e}")
                    sys.exit(1)
                time.sleep(1)

    def query(self, sql, params=()):
        """One transaction on the tenant database: through the pool of the Odoo process serving
        the current request (a request handler), else on a connection of its own (init, update)."""
        pool = getattr(CURRENT, "pool", None)
        if pool is None:
            conn = self.connect()
            try:
                with conn, conn.cursor() as cur:
                    cur.execute(sql, params)
                    return cur.fetchall() if cur.description else None
            finally:
                conn.close()
        with pool.cursor(self.name) as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None

    def is_initialized(self):
        rows = self.query(
            "SELECT 1 FROM information_schema.tables WHERE table_name = 'ir_module_module'"
        )
        return bool(rows)

    def initialize(self, without_demo):
        """`-i base`: Odoo's core tables with `base` installed (and the database created if missing)."""
        try:
            self.connect().close()
        except psycopg2.OperationalError as e:
            if "does not exist" not in str(e):
                raise
            conn = self.connect("postgres")
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{self.name}" ENCODING \'unicode\' TEMPLATE template0')
            conn.close()
        demo = "false" if without_demo else "true"
        self.query(
            f"""
            CREATE TABLE IF NOT EXISTS ir_module_module (
              id serial PRIMARY KEY, name varchar NOT NULL UNIQUE, state varchar NOT NULL,
              demo boolean NOT NULL DEFAULT false, latest_version varchar);
            INSERT INTO ir_module_module (name, state, demo, latest_version)
              VALUES ('base', 'installed', {demo}, '{VERSION}.0.1.3')
              ON CONFLICT (name) DO UPDATE SET state = 'installed';
            CREATE TABLE IF NOT EXISTS ir_config_parameter (
              key varchar PRIMARY KEY, value text NOT NULL);
            INSERT INTO ir_config_parameter VALUES
              ('database.uuid', md5(random()::text)), ('database.secret', md5(random()::text)),
              ('database.create_date', now()::text)
              ON CONFLICT (key) DO NOTHING;
            CREATE TABLE IF NOT EXISTS res_users (
              id serial PRIMARY KEY, login varchar NOT NULL UNIQUE, active boolean DEFAULT true);
            -- Odoo's user count (what it bills by, and the metering reads): active, non-share
            -- users. Like a fresh Odoo: __system__ and the public user are inactive (the public
            -- user is a share user, as portal users are), admin is the one internal user.
            ALTER TABLE res_users ADD COLUMN IF NOT EXISTS share boolean NOT NULL DEFAULT false;
            INSERT INTO res_users (login, active, share) VALUES
              ('__system__', false, false), ('admin', true, false), ('public', false, true)
              ON CONFLICT (login) DO NOTHING;
            CREATE TABLE IF NOT EXISTS ir_attachment (
              id serial PRIMARY KEY, name varchar NOT NULL, store_fname varchar NOT NULL,
              checksum varchar NOT NULL, file_size integer NOT NULL,
              create_date timestamp NOT NULL DEFAULT now());
            """
        )
        log("INFO", f"Database {self.name}: module base installed (without demo: {bool(without_demo)})")

    def update(self, modules):
        """`-u`: a module update, recorded in `stand_in_module_updates` (the test hook) with the
        image build that ran it. With STAND_IN_FAIL_UPDATE set (a build whose update breaks), it
        changes the database half-way, then fails, as a failed migration does."""
        self.query(
            """
            CREATE TABLE IF NOT EXISTS stand_in_module_updates (
              id serial PRIMARY KEY, modules varchar NOT NULL, build varchar NOT NULL,
              at timestamp NOT NULL DEFAULT now());
            UPDATE ir_module_module SET latest_version = latest_version WHERE state = 'installed';
            """
        )
        if os.environ.get("STAND_IN_FAIL_UPDATE"):
            self.query("INSERT INTO res_users (login) VALUES ('half-migrated') ON CONFLICT DO NOTHING")
            log("ERROR", f"Database {self.name}: module update failed ({modules})")
            sys.exit(1)
        build = os.environ.get("STAND_IN_BUILD", "")
        self.query("INSERT INTO stand_in_module_updates (modules, build) VALUES (%s, %s)", (modules, build))
        log("INFO", f"Database {self.name}: modules updated ({modules})")


class PoolError(Exception):
    pass


class ConnectionPool:
    """Odoo's sql_db.ConnectionPool, one per Odoo process for all its databases: at most
    db_maxconn connections; a connection given back stays open for the next borrow (closed only
    once idle longer than MAX_IDLE_TIMEOUT, at a later borrow); when all are in use the oldest
    unused one is closed to make room, and when none is unused: PoolError, as in Odoo."""

    def __init__(self, process, maxconn):
        self.process = process
        self.maxconn = max(1, maxconn)
        self.lock = threading.Lock()
        self.connections = []  # [connection, in use, last given back]
        self.peak = 0
        self.refused = 0

    def borrow(self, dbname):
        with self.lock:
            now = time.time()
            for entry in list(self.connections):
                conn, used, last = entry
                if not used and not conn.closed and now - last > MAX_IDLE_TIMEOUT:
                    conn.close()
                if conn.closed:
                    self.connections.remove(entry)
            for entry in self.connections:
                conn, used, _ = entry
                if not used and conn.info.dbname == dbname:
                    try:
                        conn.reset()
                    except psycopg2.OperationalError:
                        conn.close()
                        continue
                    entry[1] = True
                    return conn
            if len(self.connections) >= self.maxconn:
                unused = next((e for e in self.connections if not e[1]), None)
                if unused is None:
                    self.refused += 1
                    raise PoolError(f"{self.process}: The Connection Pool Is Full")
                self.connections.remove(unused)
                unused[0].close()
            try:
                conn = DB.connect(dbname, self.process)
            except psycopg2.OperationalError:
                self.refused += 1  # e.g. too many connections for the role, or the server
                raise
            self.connections.append([conn, True, 0])
            self.peak = max(self.peak, len(self.connections))
            return conn

    def give_back(self, conn):
        with self.lock:
            for entry in self.connections:
                if entry[0] is conn:
                    entry[1], entry[2] = False, time.time()
                    return

    @contextlib.contextmanager
    def cursor(self, dbname):
        """A transaction on a pooled connection, committed on success (Odoo's Cursor)."""
        conn = self.borrow(dbname)
        try:
            with conn, conn.cursor() as cur:
                yield cur
        finally:
            self.give_back(conn)

    def state(self):
        with self.lock:
            return {
                "process": self.process,
                "max": self.maxconn,
                "open": sum(1 for c, _, _ in self.connections if not c.closed),
                "in_use": sum(1 for _, used, _ in self.connections if used),
                "peak": self.peak,
                "refused": self.refused,
            }


class Processes:
    """Odoo's processes and what each keeps open on the database. Multi-process mode (workers > 0):
    `workers` HTTP workers, each serving one request at a time; `max_cron_threads` cron workers,
    each holding a LISTEN cron_trigger connection to database `postgres` and polling for jobs; and
    the gevent worker, holding a LISTEN imbus connection to `postgres` for the real-time channel.
    Each has a pool of its own (db_maxconn). Threaded mode (workers = 0): one process, one pool,
    HTTP and cron threads sharing it. Stand-in threads play the processes; the pools are as Odoo's."""

    def __init__(self, opts):
        self.pools = []
        multi = opts.workers > 0
        self.free_http = queue.Queue()
        for i in range(opts.workers if multi else 1):
            self.free_http.put(self.pool(f"http-{i}" if multi else "threaded", opts.db_maxconn))
        self.threaded = None if multi else self.pools[0]
        self.cron = [
            self.threaded or self.pool(f"cron-{i}", opts.db_maxconn)
            for i in range(opts.max_cron_threads)
        ]
        self.gevent = self.pool("gevent", opts.db_maxconn) if multi else None

    def pool(self, name, maxconn):
        p = ConnectionPool(name, maxconn)
        self.pools.append(p)
        return p

    @contextlib.contextmanager
    def http_worker(self):
        """A request waits for a free HTTP worker (the prefork server's shared socket queue)."""
        if self.threaded:
            yield self.threaded
            return
        pool = self.free_http.get()
        try:
            yield pool
        finally:
            self.free_http.put(pool)

    def state(self):
        pools = [p.state() for p in self.pools]
        return {"pools": pools, "refused": sum(p["refused"] for p in pools)}


# The pool of the Odoo process the current thread plays (request handlers, cron workers).
CURRENT = threading.local()


def listen(pool, channel):
    """A connection to database `postgres` kept for the process's life, LISTENing on `channel`."""
    conn = pool.borrow("postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"LISTEN {channel}")
    return conn


def notify(channel, payload):
    """What Odoo's bus does after a commit that sent a notification (16-17: a cursor on
    `postgres` from the same process's pool, while the request's own cursor is still open)."""
    with CURRENT.pool.cursor("postgres") as cur:
        cur.execute(f"NOTIFY {channel}, %s", (payload,))


def cron_worker(pool, stopped):
    """Odoo's WorkerCron: LISTEN cron_trigger, then poll every CRON_SLEEP_INTERVAL seconds or when
    notified; a poll acquires ready jobs with one cursor and runs each job with another (ir_cron
    _process_jobs / _process_job), so a cron worker holds up to three connections."""
    CURRENT.pool = pool
    conn = None
    while not stopped.is_set():
        try:
            if conn is None or conn.closed:
                conn = listen(pool, "cron_trigger")
            select.select([conn], [], [], CRON_SLEEP_INTERVAL)
            conn.poll()
            conn.notifies.clear()
            if stopped.is_set() or not DB.is_initialized():
                continue
            with pool.cursor(DB.name) as cron_cr:
                cron_cr.execute("SELECT 1")  # the ready jobs, locked FOR NO KEY UPDATE SKIP LOCKED
                with pool.cursor(DB.name) as job_cr:
                    job_cr.execute("SELECT pg_sleep(0.2)")  # the job's work
        except Exception as e:  # Odoo logs and its master restarts the worker
            log("ERROR", f"{pool.process}: {e}")
            stopped.wait(1)


def filestore(db):
    return os.path.join(OPTS.data_dir, "filestore", db)


class Handler(BaseHTTPRequestHandler):
    server_version = "odoo-stand-in"
    port_role = "http"

    def log_message(self, fmt, *args):
        log("INFO", f"{self.address_string()} {fmt % args}")

    def reply(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Odoo-Stand-In-Port", self.port_role)
        self.end_headers()
        self.wfile.write(data)

    def initialized(self):
        if DB.is_initialized():
            return True
        # Odoo's load_modules: the registry never loads, every request fails.
        log("ERROR", f"Database {DB.name} not initialized, you can force it with `-i base`")
        self.reply(500, "Internal Server Error", "text/plain")
        return False

    def do_GET(self):
        try:
            self.route("GET")
        except Exception as e:  # a request error must not stop the server
            log("ERROR", f"{self.path}: {e}")
            self.reply(500, "Internal Server Error", "text/plain")

    def do_POST(self):
        try:
            self.route("POST")
        except Exception as e:
            log("ERROR", f"{self.path}: {e}")
            self.reply(500, "Internal Server Error", "text/plain")

    def param(self, name):
        values = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get(name)
        return float(values[0]) if values else 0.0

    def route(self, method):
        path = self.path.split("?", 1)[0]
        if path == "/stand-in/pools" and method == "GET":  # a test hook: no Odoo process serves it
            return self.reply(200, json.dumps(PROCS.state()))
        if self.port_role == "realtime":
            CURRENT.pool = PROCS.gevent
            return self.realtime(path)
        with PROCS.http_worker() as pool:
            CURRENT.pool = pool
            try:
                return self.http(method, path)
            finally:
                CURRENT.pool = None

    def realtime(self, path):
        """The gevent worker (workers > 0) serves only the real-time path of the version; `?ms=`
        holds one of its cursors that long, as dispatching a notification to a client does."""
        rt = "/websocket" if VERSION >= 16 else "/longpolling/"
        if not (path == rt or (VERSION < 16 and path.startswith(rt))):
            return self.reply(404, json.dumps({"error": "not a real-time path"}))
        if VERSION >= 16 and self.headers.get("Upgrade", "").lower() == "websocket":
            return self.websocket()
        ms = self.param("ms")
        if ms:
            with PROCS.gevent.cursor(DB.name) as cur:
                cur.execute("SELECT pg_sleep(%s)", (ms / 1000,))
        return self.reply(200, json.dumps({"realtime": True, "path": path}))

    def websocket(self):
        """A browser tab's websocket (16+): accepted as RFC 6455 says, then held open until the client
        closes it (the stand-in sends no notifications on it)."""
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(
            hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
        ).decode()
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.send_header("X-Odoo-Stand-In-Port", self.port_role)
        self.end_headers()
        self.wfile.flush()
        while self.connection.recv(4096):
            pass
        self.close_connection = True

    def http(self, method, path):
        if path == "/stand-in/config" and method == "GET":
            return self.reply(200, json.dumps(CONFIG))
        if OPTS.dbfilter:
            # Odoo (16-17) resolves each request's database against the server's list: with a
            # db-filter, a query on database `postgres`.
            with CURRENT.pool.cursor("postgres") as cur:
                cur.execute("SELECT datname FROM pg_database WHERE datname = %s", (DB.name,))
        if path == "/web/health" and method == "GET":
            if VERSION < 15:  # the endpoint arrived in Odoo 15.0
                return self.reply(404, "Not Found", "text/plain")
            if not self.initialized():
                return None
            return self.reply(200, json.dumps({"status": "pass"}))
        if path == "/stand-in/attachments":
            return self.attachments(method)
        if path == "/stand-in/work" and method == "POST":
            return self.work()
        if method == "GET":
            if not self.initialized():
                return None
            page = f"<html><head><title>Odoo</title></head><body>{DB.name} (stand-in {VERSION}.0)</body></html>"
            return self.reply(200, page, "text/html")
        return self.reply(404, json.dumps({"error": "not found"}))

    def work(self):
        """Test hook: a write request that holds its cursor `?ms=` milliseconds, then commits with a
        bus notification (a second connection, to `postgres`, while the first is still held)."""
        ms = self.param("ms")
        with CURRENT.pool.cursor(DB.name) as cur:
            cur.execute("SELECT pg_sleep(%s)", (ms / 1000,))
            notify("imbus", json.dumps([DB.name, "stand-in/work"]))
        return self.reply(200, json.dumps({"worked_ms": ms}))

    def attachments(self, method):
        """Test hook: create an attachment (a filestore file + its row) or list them."""
        if not self.initialized():
            return None
        if method == "POST":
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            content = base64.b64decode(body["datas"])
            checksum = hashlib.sha1(content).hexdigest()
            fname = f"{checksum[:2]}/{checksum}"
            full = os.path.join(filestore(DB.name), fname)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(content)
            rows = DB.query(
                "INSERT INTO ir_attachment (name, store_fname, checksum, file_size) "
                "VALUES (%s, %s, %s, %s) RETURNING id",
                (body["name"], fname, checksum, len(content)),
            )
            return self.reply(201, json.dumps({"id": rows[0][0], "store_fname": fname}))
        rows = DB.query("SELECT id, name, store_fname, checksum FROM ir_attachment ORDER BY id")
        items = []
        for id_, name, fname, checksum in rows:
            full = os.path.join(filestore(DB.name), fname)
            on_disk = os.path.exists(full) and hashlib.sha1(open(full, "rb").read()).hexdigest() == checksum
            items.append({"id": id_, "name": name, "store_fname": fname, "on_disk": on_disk})
        return self.reply(200, json.dumps(items))


class RealtimeHandler(Handler):
    port_role = "realtime"


def serve(port, handler):
    httpd = ThreadingHTTPServer(("0.0.0.0", port), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def read_config(path):
    """Odoo's configuration file (-c, else ODOO_RC): how its admin_passwd is set, never the value."""
    if not path:
        return {"config_file": None, "admin_passwd": "unset"}
    parser = configparser.ConfigParser(interpolation=None)
    if not parser.read(path):
        log("ERROR", f"cannot read the configuration file {path}")
        sys.exit(1)
    value = parser.get("options", "admin_passwd", fallback=None)
    kind = "unset" if not value else value.split("$")[1] if value.startswith("$") else "plaintext"
    return {"config_file": path, "admin_passwd": kind}


def bus_listener(pool, stopped):
    """The gevent worker's ImDispatch: a LISTEN imbus connection to `postgres`, reopened if lost."""
    CURRENT.pool = pool
    while not stopped.is_set():
        try:
            conn = listen(pool, "imbus")
            while not stopped.is_set() and not conn.closed:
                select.select([conn], [], [], 5)
                conn.poll()
                conn.notifies.clear()
        except Exception as e:
            log("ERROR", f"Bus.loop error, sleep and retry: {e}")
            stopped.wait(1)


def main():
    global OPTS, DB, CONFIG, PROCS
    OPTS = parse_args(sys.argv[1:])
    CONFIG = read_config(OPTS.config or os.environ.get("ODOO_RC"))
    if not OPTS.db_name:
        log("ERROR", "this stand-in serves one database: pass -d/--database")
        sys.exit(2)
    DB = Database(OPTS)
    DB.wait()
    if "base" in OPTS.init.split(","):
        DB.initialize(OPTS.without_demo)
    if OPTS.update:
        DB.update(OPTS.update)
    if OPTS.stop_after_init:
        log("INFO", "stop after init")
        return
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    # Odoo takes seconds to load its registry before it answers (the image sets how many).
    delay = float(os.environ.get("STAND_IN_START_DELAY_SECONDS") or 0)
    if delay:
        log("INFO", f"loading (stand-in start delay {delay:g} s)")
        time.sleep(delay)
    PROCS = Processes(OPTS)
    for pool in PROCS.cron:
        threading.Thread(target=cron_worker, args=(pool, stopped), daemon=True).start()
    servers = [serve(OPTS.http_port, Handler)]
    if OPTS.workers > 0:  # the gevent (real-time) worker runs only in multi-process mode
        threading.Thread(target=bus_listener, args=(PROCS.gevent, stopped), daemon=True).start()
        servers.append(serve(OPTS.gevent_port, RealtimeHandler))
    log("INFO", f"HTTP service running on 0.0.0.0:{OPTS.http_port} (stand-in for Odoo {VERSION}.0)")
    stopped.wait()
    log("INFO", "Initiating shutdown")
    for s in servers:
        s.shutdown()


if __name__ == "__main__":
    main()
