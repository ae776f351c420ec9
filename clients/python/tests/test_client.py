"""The Python client against a real `propgrade serve` (SQLite, the db lock, a bearer token).

Run by ctest (python.client): PROPGRADE_BIN names the propgrade binary.
"""
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import propgrade  # noqa: E402

CONFIG = """
[tables.player_form_daily]
partition_column = "as_of_date"
key = ["player_lookup"]
columns = [
  { name = "as_of_date", type = "date" },
  { name = "player_lookup", type = "text", required = true },
  { name = "form", type = "real" },
]
"""
TOKEN = "client-test-token-4f1c"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="propgrade-client-")
        cls.db = os.path.join(cls.dir, "p.db")
        config = os.path.join(cls.dir, "propgrade.toml")
        with open(config, "w") as f:
            f.write(CONFIG)
        port = free_port()
        env = dict(os.environ, PROPGRADE_TRIGGER_TOKEN=TOKEN)
        cls.server = subprocess.Popen(
            [os.environ["PROPGRADE_BIN"], "--db", "sqlite:" + cls.db, "--config", config,
             "serve", "--listen", "127.0.0.1:%d" % port],
            env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(cls.dir, "serve.log"), "w"))
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or cls.server.poll() is not None:
                    raise RuntimeError("propgrade serve did not start: " +
                                       open(os.path.join(cls.dir, "serve.log")).read())
                time.sleep(0.05)
        cls.client = propgrade.Client("http://127.0.0.1:%d" % port, token=TOKEN, timeout=30)

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=60)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def rows(self, partition):
        c = sqlite3.connect(self.db)
        try:
            return c.execute("SELECT player_lookup, form FROM player_form_daily WHERE "
                             "as_of_date = ? ORDER BY player_lookup", (partition,)).fetchall()
        finally:
            c.close()

    def test_load_writes_the_partition_and_an_unchanged_load_writes_nothing(self):
        rows = [{"as_of_date": "2026-01-16", "player_lookup": "b", "form": 1.5},
                {"as_of_date": "2026-01-16", "player_lookup": "a", "form": 2}]
        first = self.client.load("player_form_daily", "2026-01-16", rows)
        self.assertEqual(first["status"], "success")
        self.assertEqual(first["rows_written"], 2)
        self.assertIsNotNone(first["fence_token"])
        self.assertEqual(self.rows("2026-01-16"), [("a", 2.0), ("b", 1.5)])
        again = self.client.load("player_form_daily", "2026-01-16", list(reversed(rows)))
        self.assertEqual(again["status"], "unchanged")
        merged = self.client.load("player_form_daily", "2026-01-16",
                                  [{"as_of_date": "2026-01-16", "player_lookup": "c", "form": 3}],
                                  mode="merge")
        self.assertEqual(merged["status"], "success")
        self.assertEqual(self.rows("2026-01-16"), [("a", 2.0), ("b", 1.5), ("c", 3.0)])

    def test_bad_input_is_a_400_naming_the_line_and_writes_nothing(self):
        with self.assertRaises(propgrade.Error) as e:
            self.client.load("player_form_daily", "2026-01-18",
                             [{"as_of_date": "2026-01-18", "player_lookup": "a", "form": 1},
                              {"as_of_date": "2026-01-19", "player_lookup": "b", "form": 1}])
        self.assertEqual(e.exception.status, 400)
        self.assertIn("request body:2", e.exception.message)
        self.assertIn("not the partition being loaded", e.exception.message)
        with self.assertRaises(propgrade.Error) as e:
            self.client.load("no_such_table", "2026-01-18", [{"x": 1}])
        self.assertEqual(e.exception.status, 400)
        self.assertIn("unknown table 'no_such_table'", e.exception.message)
        self.assertEqual(self.rows("2026-01-18"), [])

    def get(self, path):
        req = urllib.request.Request(self.client.url + path,
                                     headers={"Authorization": "Bearer " + TOKEN})
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read().decode()

    def test_metrics_and_the_dashboard_cover_the_declared_table(self):
        rows = [{"as_of_date": "2026-02-01", "player_lookup": "a", "form": 1}]
        self.assertEqual(self.client.load("player_form_daily", "2026-02-01", rows)["status"],
                         "success")
        metrics = self.get("/metrics")
        self.assertIn('propgrade_rows_written_total{table="player_form_daily"}', metrics)
        self.assertIn('propgrade_runs_total{processor="player_form_daily",status="success"}',
                      metrics)
        self.assertIn('propgrade_last_success_timestamp_seconds{processor="player_form_daily"}',
                      metrics)
        tables = json.loads(self.get("/api/tables"))["tables"]
        self.assertEqual([t["name"] for t in tables], ["player_form_daily"])
        self.assertGreaterEqual(tables[0]["partitions"], 1)
        self.assertIsNotNone(tables[0]["last_written_at"])

    def test_an_idempotency_key_replays_the_first_answer(self):
        rows = [{"as_of_date": "2026-01-20", "player_lookup": "a", "form": 1}]
        first = self.client.load("player_form_daily", "2026-01-20", rows, idempotency_key="k-1")
        second = self.client.load("player_form_daily", "2026-01-20", rows, idempotency_key="k-1")
        self.assertEqual(first, second)  # the same run, not a second one
        with self.assertRaises(propgrade.Error) as e:
            self.client.load("player_form_daily", "2026-01-20",
                             [{"as_of_date": "2026-01-20", "player_lookup": "z", "form": 9}],
                             idempotency_key="k-1")
        self.assertEqual(e.exception.status, 422)

    def test_a_lease_is_exclusive_renewed_and_released(self):
        with self.client.lock("analytics/2026-01-16", ttl_seconds=2) as lease:
            self.assertIsInstance(lease.token, int)
            with self.assertRaises(propgrade.Error) as e:
                self.client.lock("analytics/2026-01-16", ttl_seconds=2)
            self.assertEqual(e.exception.status, 503)  # lock timeout
            time.sleep(2.5)  # past the TTL: only the renewals keep it
            lease.check()
            with self.assertRaises(propgrade.Error):
                self.client.lock("analytics/2026-01-16", ttl_seconds=2)
        with self.client.lock("analytics/2026-01-16", ttl_seconds=2) as after:
            self.assertGreater(after.token, lease.token)

    def test_a_lease_taken_away_is_lost(self):
        lease = self.client.lock("exports/2026-01-16", ttl_seconds=1)
        subprocess.run([os.environ["PROPGRADE_BIN"], "--db", "sqlite:" + self.db, "locks",
                        "release", "exports/2026-01-16", "--reason", "client test"],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with self.assertRaises(propgrade.LeaseLost):
            with lease:
                time.sleep(1.5)
        self.assertTrue(lease.lost)

    def test_a_bad_token_is_refused(self):
        bad = propgrade.Client(self.client.url, token="wrong", timeout=10)
        with self.assertRaises(propgrade.Error) as e:
            bad.load("player_form_daily", "2026-01-16", [])
        self.assertEqual(e.exception.status, 401)


if __name__ == "__main__":
    unittest.main()
