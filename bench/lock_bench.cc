// P5 (spec/performance.md): uncontended acquire + release per lock backend, beside the minimum
// sequence of backend operations the protocol needs, measured side by side in one run.
//   db (SQLite):  two single-row write transactions (take, give back)
//   etcd:         lease grant + txn + lease revoke
//   db (PostgreSQL): two single-row write statements (autocommit)
// Usage: propgrade_lock_bench --db PATH [--pg URL] [--etcd HOST:PORT] [--iterations N]
// Prints one JSON line per backend (bench/README.md): median microseconds of each.
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bench_json.h"
#include "common/civil_date.h"
#include "common/http_client.h"
#include "lock/lock_service.h"
#include "db/pg_conn.h"
#include "store/store.h"

namespace {

using namespace propgrade;

double MedianMicros(int iterations, const std::function<void()>& fn) {
  std::vector<double> t;
  for (int i = 0; i < iterations; ++i) {
    auto a = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a)
                    .count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// P5's target: acquire + release within 1.5x the minimal backend sequence.
void PrintRow(const char* backend, const char* minimum, double ours, double base) {
  bench::Measurement m;
  m.id = "P5";
  m.workload = std::string("uncontended acquire + release, ") + backend;
  m.ours = ours;
  m.compare = minimum;
  m.theirs = base;
  m.unit = "us";
  m.target = "<= 1.5x";
  m.met = ours <= 1.5 * base;
  bench::Print(m);
}

std::string B64(const std::string& s) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  int val = 0, bits = -6;
  for (unsigned char c : s) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(k[(val >> bits) & 0x3F]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(k[((val << 8) >> (bits + 8)) & 0x3F]);
  while (out.size() % 4) out.push_back('=');
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string db_path, etcd, pg;
  int iterations = 300;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--db")) db_path = argv[i + 1];
    if (!std::strcmp(argv[i], "--etcd")) etcd = argv[i + 1];
    if (!std::strcmp(argv[i], "--pg")) pg = argv[i + 1];
    if (!std::strcmp(argv[i], "--iterations")) iterations = std::atoi(argv[i + 1]);
  }
  if (db_path.empty()) {
    std::fprintf(stderr, "usage: %s --db PATH [--etcd HOST:PORT] [--iterations N]\n", argv[0]);
    return 2;
  }
  auto store = Store::Open("sqlite:" + db_path, StoreOptions{});
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 3;
  }

  // db: our lock against two bare single-row write transactions on the same file.
  LockOptions lo;
  lo.store_url = "sqlite:" + db_path;
  auto db = std::move(LockService::Open("db", lo)).value();
  sqlite3* raw = nullptr;
  sqlite3_open(db_path.c_str(), &raw);
  sqlite3_busy_timeout(raw, 10000);
  sqlite3_exec(raw, "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr);  // as the lock's
  sqlite3_exec(raw, "CREATE TABLE IF NOT EXISTS bench_minimal (k TEXT PRIMARY KEY, v INTEGER)",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* put = nullptr;
  sqlite3_prepare_v2(raw, "INSERT OR REPLACE INTO bench_minimal (k, v) VALUES ('k', ?)", -1, &put,
                     nullptr);
  auto write_txn = [&](int v) {
    sqlite3_exec(raw, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    sqlite3_bind_int(put, 1, v);
    sqlite3_step(put);
    sqlite3_reset(put);
    sqlite3_exec(raw, "COMMIT", nullptr, nullptr, nullptr);
  };
  for (int round = 0; round < 2; ++round) {  // the first round warms caches
    double base = MedianMicros(iterations, [&] {
      write_txn(1);
      write_txn(0);
    });
    double ours = MedianMicros(iterations, [&] {
      auto lease = db->Acquire("bench/db", 60000000, 0);
      if (lease.ok()) db->Release(*lease).IgnoreError();
    });
    if (round == 1) PrintRow("db (SQLite)", "2 single-row write transactions", ours, base);
  }
  sqlite3_finalize(put);
  sqlite3_close(raw);

  if (!pg.empty()) {
    if (!Store::Open(pg, StoreOptions{}).ok()) return 3;
    LockOptions po;
    po.store_url = pg;
    auto locks = LockService::Open("db", po);
    auto url = ParsePgUrl(pg);
    auto conn = url.ok() ? PgConn::Connect(*url) : StatusOr<std::unique_ptr<PgConn>>(url.status());
    if (!locks.ok() || !conn.ok()) {
      std::fprintf(stderr, "postgres: %s\n", (locks.ok() ? conn.status() : locks.status()).ToString().c_str());
      return 3;
    }
    (*conn)->Exec("CREATE TABLE IF NOT EXISTS bench_minimal (k TEXT PRIMARY KEY, v INTEGER)")
        .status().IgnoreError();
    auto write = [&](const char* v) {
      (*conn)->Exec("INSERT INTO bench_minimal (k, v) VALUES ('k', $1) ON CONFLICT (k) DO UPDATE "
                    "SET v = excluded.v", {std::string(v)}).status().IgnoreError();
    };
    for (int round = 0; round < 2; ++round) {
      double base = MedianMicros(iterations, [&] {
        write("1");
        write("0");
      });
      double ours = MedianMicros(iterations, [&] {
        auto lease = (*locks)->Acquire("bench/pg", 60000000, 0);
        if (lease.ok()) (*locks)->Release(*lease).IgnoreError();
      });
      if (round == 1) PrintRow("db (PostgreSQL)", "2 single-row write statements", ours, base);
    }
  }

  if (!etcd.empty()) {
    auto locks = LockService::Open("etcd://" + etcd, LockOptions{});
    if (!locks.ok()) {
      std::fprintf(stderr, "%s\n", locks.status().ToString().c_str());
      return 3;
    }
    // The same HTTP client (kept-alive connection) as the lock service uses.
    auto client = NewCurlHttpClient();
    auto post = [&](const char* path, const std::string& body) {
      auto r = client->Post("http://" + etcd + path, body, "application/json",
                            HttpRequestOptions{});
      return r.ok() ? r->body : std::string();
    };
    for (int round = 0; round < 2; ++round) {
      double base = MedianMicros(iterations, [&] {
        std::string grant = post("/v3/lease/grant", "{\"TTL\":60}");
        size_t p = grant.find("\"ID\":\"") + 6;
        std::string id = grant.substr(p, grant.find('"', p) - p);
        std::string key = B64("/bench/minimal/" + id);
        post("/v3/kv/txn", "{\"compare\":[{\"key\":\"" + key +
                               "\",\"target\":\"CREATE\",\"result\":\"EQUAL\",\"create_revision\":\"0\"}],"
                               "\"success\":[{\"requestPut\":{\"key\":\"" + key +
                               "\",\"value\":\"" + B64("x") + "\",\"lease\":\"" + id + "\"}}]}");
        post("/v3/lease/revoke", "{\"ID\":\"" + id + "\"}");
      });
      double ours = MedianMicros(iterations, [&] {
        auto lease = (*locks)->Acquire("bench/etcd", 60000000, 0);
        if (lease.ok()) (*locks)->Release(*lease).IgnoreError();
      });
      if (round == 1) PrintRow("etcd", "lease grant + txn + revoke", ours, base);
    }
  }
  return 0;
}
