"""propgrade's HTTP API from Python: leases and loads of declared tables (docs/own-tables.md).

Standard library only; nothing touches the network at import time.

    import propgrade

    client = propgrade.Client("http://127.0.0.1:8080", token=os.environ["PROPGRADE_TRIGGER_TOKEN"])
    with client.lock("analytics/2026-01-16", ttl_seconds=120) as lease:
        ...                               # lease.token: the fencing token for the SQL fence
    summary = client.load("player_form_daily", "2026-01-16", rows)   # rows: list of dicts

    # or, with PROPGRADE_URL / PROPGRADE_TRIGGER_TOKEN in the environment:
    with propgrade.lock("analytics/2026-01-16") as lease: ...
    propgrade.load("player_form_daily", "2026-01-16", rows)

A lease is renewed by a background thread every third of its TTL; when a renewal fails the
lease is marked lost (`lease.lost`, `lease.check()` raises LeaseLost) and leaving the `with`
block raises LeaseLost unless the block raised first. A load's rows go as JSON lines; the run
summary comes back as a dict (its "status": success, unchanged, ...); a refused load raises
Error with the server's code and message.
"""
import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["Client", "Error", "LeaseLost", "Lease", "lock", "load"]


class Error(Exception):
    """A call the server refused: `status` (HTTP), `code` (e.g. INVALID_ARGUMENT), `message`,
    and `body` (the decoded JSON answer, a run summary for a load that ran and failed)."""

    def __init__(self, status, code, message, body=None):
        super().__init__("%s %s: %s" % (status, code, message))
        self.status, self.code, self.message, self.body = status, code, message, body


class LeaseLost(Error):
    """The lease ended before its holder released it (a renewal was refused or failed)."""


class Lease:
    """A held lease: key, token, holder_id, expires_at (RFC 3339) and the server's handle."""

    def __init__(self, client, fields, ttl_seconds):
        self._client = client
        self._fields = dict(fields)
        self._ttl = ttl_seconds
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._lost = None
        self._thread = None

    key = property(lambda self: self._fields["key"])
    token = property(lambda self: self._fields.get("token"))
    holder_id = property(lambda self: self._fields.get("holder_id"))
    expires_at = property(lambda self: self._fields.get("expires_at"))
    lost = property(lambda self: self._lost is not None)

    def check(self):
        """Raises LeaseLost when the lease is no longer held."""
        if self._lost is not None:
            raise self._lost

    def renew(self):
        with self._lock:
            fields = dict(self._fields)
        try:
            renewed = self._client._call("POST", _lock_path(fields["key"], "renew"), fields)
        except Error as e:
            self._lost = LeaseLost(e.status, e.code, e.message, e.body)
            raise self._lost
        with self._lock:
            self._fields = renewed
        return self

    def release(self):
        self._stop.set()
        if self._thread and self._thread is not threading.current_thread():
            self._thread.join()
        with self._lock:
            fields = dict(self._fields)
        self._client._call("POST", _lock_path(fields["key"], "release"), fields)

    def _keep(self):
        every = max(self._ttl / 3.0, 0.2)
        while not self._stop.wait(every):
            try:
                self.renew()
            except Error:
                return
            except OSError as e:  # the server is unreachable: the lease may run out
                self._lost = LeaseLost(0, "UNAVAILABLE", str(e))
                return

    def __enter__(self):
        self._thread = threading.Thread(target=self._keep, name="propgrade-lease", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        lost = self._lost
        try:
            self.release()
        except (Error, OSError):
            pass
        if lost is not None and exc_type is None:
            raise lost
        return False


def _lock_path(key, action):
    return "/v1/locks/%s:%s" % (urllib.parse.quote(key, safe="/"), action)


class Client:
    """One propgrade server: `url` (http://host:port) and its bearer `token` (or None)."""

    def __init__(self, url=None, token=None, timeout=120):
        self.url = (url or os.environ.get("PROPGRADE_URL") or "http://127.0.0.1:8080").rstrip("/")
        self.token = token if token is not None else os.environ.get("PROPGRADE_TRIGGER_TOKEN")
        self.timeout = timeout

    def lock(self, key, ttl_seconds=300, max_wait_seconds=0):
        """Acquires `key`; use it in a `with` block (renewed while inside, released after)."""
        fields = self._call("POST", _lock_path(key, "acquire"),
                            {"ttl_seconds": ttl_seconds, "max_wait_seconds": max_wait_seconds})
        return Lease(self, fields, ttl_seconds)

    def load(self, table, partition, rows, mode="replace", idempotency_key=None,
             allow_empty=False):
        """Writes `rows` (dicts keyed by column) as `partition` of the declared `table`."""
        body = "".join(json.dumps(r, separators=(",", ":"), default=str) + "\n" for r in rows)
        query = {"mode": mode}
        if allow_empty:
            query["allow_empty"] = "true"
        path = "/v1/tables/%s/partitions/%s?%s" % (
            urllib.parse.quote(table, safe=""), urllib.parse.quote(str(partition), safe=""),
            urllib.parse.urlencode(query))
        headers = {"Content-Type": "application/x-ndjson"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return self._call("PUT", path, body.encode("utf-8"), headers)

    def _call(self, method, path, body=None, headers=None):
        h = {"Accept": "application/json"}
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode("utf-8")
            h["Content-Type"] = "application/json"
        h.update(headers or {})
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(self.url + path, data=body, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return json.loads(r.read().decode("utf-8") or "{}")
        except urllib.error.HTTPError as e:
            raw = e.read().decode("utf-8", "replace")
            try:
                decoded = json.loads(raw)
            except ValueError:
                decoded = {}
            err = decoded.get("error") if isinstance(decoded, dict) else None
            if isinstance(err, dict):
                raise Error(e.code, err.get("code", ""), err.get("message", raw), decoded)
            status = decoded.get("status", "") if isinstance(decoded, dict) else ""
            raise Error(e.code, status.upper(), decoded.get("error", raw) if isinstance(
                decoded, dict) else raw, decoded)


def lock(key, ttl_seconds=300, max_wait_seconds=0):
    """Client().lock(...): the server from PROPGRADE_URL, the token from PROPGRADE_TRIGGER_TOKEN."""
    return Client().lock(key, ttl_seconds, max_wait_seconds)


def load(table, partition, rows, mode="replace", idempotency_key=None):
    """Client().load(...), as lock()."""
    return Client().load(table, partition, rows, mode, idempotency_key)
