// A stand-in for `propgrade serve`, for developing and testing the dashboard without the C++
// server: serves the web/ files at the same asset paths and canned, realistic API JSON.
// Plain Node http module, no dependencies.
//
//   node mock_server.js PORT [--empty] [--fail=/api/runs] [--token=T]
//
//   --empty        every series/list empty, latest_date null (checks the "no data yet" paths)
//   --fail=PATH    answer that API path (without query) with HTTP 500 (checks the error banner)
//   --token=T      /api/* needs `Authorization: Bearer T`, else 401 (as server.protect_reads does;
//                  the page only: dashboard_test.js --token also probes /metrics and /healthz)
'use strict';

const http = require('http');
const fs = require('fs');
const path = require('path');

const args = process.argv.slice(2);
const port = Number(args.find((a) => /^\d+$/.test(a)) || 18790);
const EMPTY = args.includes('--empty');
const FAIL = new Set(args.filter((a) => a.startsWith('--fail=')).map((a) => a.slice(7)));
const TOKEN = (args.find((a) => a.startsWith('--token=')) || '').slice(8);

const WEB = path.resolve(__dirname, '..', '..', 'web');

// The same mapping `propgrade serve` uses (see the dashboard notes).
const ASSETS = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/assets/app.js': ['app.js', 'application/javascript; charset=utf-8'],
  '/assets/app.css': ['app.css', 'text/css; charset=utf-8'],
  '/assets/uPlot.iife.min.js': ['node_modules/uplot/dist/uPlot.iife.min.js', 'application/javascript; charset=utf-8'],
  '/assets/uPlot.min.css': ['node_modules/uplot/dist/uPlot.min.css', 'text/css; charset=utf-8'],
};

// ---- canned data (deterministic: a small seeded PRNG) -------------------------------------

let seed = 20261128;
function rand() { // LCG, 0..1
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 4294967296;
}
const round = (v, d) => Math.round(v * 10 ** d) / 10 ** d;

const SYSTEMS = ['catboost_v8', 'ensemble_v1', 'moving_average_baseline_v1',
                 'similarity_balanced_v1', 'xgboost_v1', 'zone_matchup_v1'];
const PROCESSORS = ['grading', 'daily_performance', 'performance_summary', 'consolidation'];
const LATEST = Date.UTC(2026, 10, 27); // 2026-11-27
const GENERATED_AT = '2026-11-28T20:00:00.000000Z';
const NOW = Date.UTC(2026, 10, 28, 20, 0, 0) / 1000;
const DAY = 86400000;

const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const isoTs = (sec) => new Date(sec * 1000).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

const DATES = Array.from({ length: 60 }, (_, i) => isoDay(LATEST - (59 - i) * DAY));
// No games on these days (every system null), e.g. Thanksgiving.
const DARK = new Set(['2026-11-26', '2026-10-12', '2026-10-13']);

function performance() {
  const systems = SYSTEMS.map((id, k) => {
    const skill = [0.56, 0.55, 0.5, 0.53, 0.545, 0.52][k];
    const err = [4.9, 5.0, 6.1, 5.4, 5.1, 5.6][k];
    const startsAt = id === 'xgboost_v1' ? 20 : 0; // a system that went live later
    const win_rate = [];
    const mae = [];
    DATES.forEach((d, i) => {
      const missing = DARK.has(d) || i < startsAt || (id === 'zone_matchup_v1' && i % 9 === 4);
      win_rate.push(missing ? null : round(skill + (rand() - 0.5) * 0.14, 4));
      mae.push(missing ? null : round(err + (rand() - 0.5) * 1.2, 3));
    });
    return { system_id: id, win_rate, mae };
  });
  return { dates: DATES, systems };
}

function calibration() {
  return {
    systems: SYSTEMS.map((id, k) => {
      const deciles = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
      const decided = deciles.map((d) => (d <= 3 && k !== 2 ? 0 : Math.round((d <= 4 ? 8 : 40 * d) * (0.7 + rand() * 0.6))));
      return {
        system_id: id,
        deciles,
        hit_rate: deciles.map((d, i) => (decided[i] === 0 ? null
          : round(Math.min(0.95, 0.38 + d * 0.035 + (rand() - 0.5) * 0.08 - k * 0.008), 4))),
        decided,
        mean_confidence: deciles.map((d, i) => (decided[i] === 0 ? null : round((d - 1) / 10 + 0.02 + rand() * 0.06, 4))),
      };
    }),
  };
}

function duplicates() {
  return { dates: DATES, duplicate_rows: DATES.map(() => 0), audit_groups: DATES.map(() => 0) };
}

function lockWaits() {
  const points = [];
  for (let day = 7; day >= 1; day--) {
    const base = NOW - day * 86400;
    for (const proc of PROCESSORS) {
      const runs = proc === 'grading' ? 3 : 1;
      for (let r = 0; r < runs; r++) {
        const at = round(base + 11 * 3600 + r * 4 * 3600 + PROCESSORS.indexOf(proc) * 30 + rand() * 20, 1);
        const contended = rand() < 0.06;
        points.push({ at, wait_seconds: round(contended ? 2 + rand() * 9 : 0.005 + rand() * 0.12, 3), processor: proc });
      }
    }
  }
  return { points };
}

const LOCKS = {
  locks: [
    { key: 'grading/2026-11-28', holder_id: 'grader-7f9c:48211:ab12', token: 42, held_seconds: 3, expires_in_seconds: 297 },
    { key: 'performance_summary/2026-11-27', holder_id: 'grader-7f9c:48211:ab12', token: 41, held_seconds: 128, expires_in_seconds: 172 },
  ],
};

function runs() {
  // [processor, partition offset (days before LATEST), status, duration, rows, dups, error]
  const spec = [
    ['consolidation', 0, 'success', 0.22, 6, 0, null],
    ['performance_summary', 0, 'success', 0.18, 6, 0, null],
    ['daily_performance', 0, 'success', 0.09, 6, 0, null],
    ['grading', 0, 'success', 0.41, 1339, 0, null],
    ['grading', -1, 'no_actuals', 0.05, 0, 0, null],
    ['grading', 0, 'lock_timeout', 60.02, 0, 0, 'lock grading/2026-11-27 held by grader-2b01:911:c3d4 for 60 s'],
    ['performance_summary', 1, 'circuit_open', 0.0, 0, 0, 'breaker performance_summary is open (3 consecutive failures)'],
    ['performance_summary', 1, 'failed', 1.73, 0, 0, 'store: UNIQUE constraint failed: <summary> & "quotes" stay text'],
    ['grading', 1, 'success', 0.38, 1287, 0, null],
    ['grading', 2, 'fenced_out', 2.91, 0, 0, 'fence token 37 < 38: write refused'],
    ['grading', 2, 'success', 0.36, 1301, 0, null],
    ['daily_performance', 2, 'success', 0.08, 6, 0, null],
    ['grading', 3, 'unavailable', 5.01, 0, 0, 'lock service unreachable: connect 127.0.0.1:2379 refused'],
    ['grading', 3, 'success', 0.44, 1422, 0, null],
    ['grading', 4, 'no_predictions', 0.03, 0, 0, null],
    ['grading', 5, 'success', 0.4, 1210, 0, null],
  ];
  let t = NOW - 9 * 3600;
  return {
    runs: spec.map(([processor, off, status, dur, rows, dups, error], i) => {
      t -= 1800 + Math.round(rand() * 7200);
      const id = new Date(t * 1000).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
      return {
        run_id: `${id}-${(0x4f3a9c12 + i * 7919).toString(16)}`,
        processor, partition: isoDay(LATEST - off * DAY), status,
        started_at: isoTs(t), duration_seconds: dur, rows_written: rows, duplicate_rows: dups, error,
      };
    }),
  };
}

const ALERTS = {
  alerts: [
    { at: '2026-11-28T11:00:03.120000Z', type: 'source_duplicates', severity: 'WARNING',
      subject: 'player_prop_predictions/2026-11-27', summary: '14 duplicate business keys in the predictions input (kept the newest of each)', delivered: true, folded_count: 0 },
    { at: '2026-11-28T08:31:40.000000Z', type: 'lock_acquisition_failed', severity: 'CRITICAL',
      subject: 'grading/2026-11-27', summary: 'lock not acquired within 60 s; the run wrote nothing', delivered: true, folded_count: 2 },
    { at: '2026-11-27T22:05:11.000000Z', type: 'circuit_open', severity: 'CRITICAL',
      subject: 'performance_summary', summary: 'breaker opened after 3 consecutive failures', delivered: false, folded_count: 0 },
    { at: '2026-11-27T21:40:00.000000Z', type: 'run_failed', severity: 'CRITICAL',
      subject: 'performance_summary/2026-11-26', summary: '<b>not bold</b>: API strings are shown as text', delivered: true, folded_count: 0 },
    { at: '2026-11-26T11:02:09.000000Z', type: 'lock_contention', severity: 'WARNING',
      subject: 'grading/2026-11-25', summary: 'waited 71.4 s for lock grading/2026-11-25', delivered: true, folded_count: 0 },
  ],
};

const BREAKERS = {
  breakers: [
    { name: 'consolidation', state: 'closed', consecutive_failures: 0, opened_at: null },
    { name: 'daily_performance', state: 'closed', consecutive_failures: 0, opened_at: null },
    { name: 'grading', state: 'closed', consecutive_failures: 1, opened_at: null },
    { name: 'performance_summary', state: 'half_open', consecutive_failures: 3, opened_at: '2026-11-27T22:05:11.000000Z' },
  ],
};

const DECLARED = {
  tables: [
    {
      name: 'bets_export',
      processor: 'bets_export',
      partition_column: 'batch',
      partitions: 12,
      newest_partition: 'batch-0117',
      newest_rows: 311,
      last_written_at: '2026-11-27T22:10:00.000000Z',
      last_run:
          {status: 'success', partition: 'batch-0117', finished_at: '2026-11-27T22:10:00.000000Z'},
      duplicate_rows_7d: 0
    },
    {
      name: 'player_form_daily',
      processor: 'player_form',
      partition_column: 'as_of_date',
      partitions: 30,
      newest_partition: '2026-11-27',
      newest_rows: 480,
      last_written_at: '2026-11-27T11:00:03.000000Z',
      last_run: {
        status: 'lock_timeout',
        partition: '2026-11-27',
        finished_at: '2026-11-27T11:05:03.000000Z'
      },
      duplicate_rows_7d: 2
    },
  ],
};

const HISTORY = {
  table: 'prediction_accuracy',
  partitions: [
    {
      partition: '2026-11-26',
      rows_now: 1339,
      writes: [{
        run_id: 'r1',
        kind: 'replace',
        written_at: '2026-11-27T11:00:00.000000Z',
        rows_before: 0,
        rows_after: 1339,
        keys_added: 1339,
        keys_removed: 0,
        keys_changed: 0
      }]
    },
    {
      partition: '2026-11-27',
      rows_now: 1301,
      writes: [{
        run_id: 'r2',
        kind: 'replace',
        written_at: '2026-11-28T11:00:00.000000Z',
        rows_before: 0,
        rows_after: 1301,
        keys_added: 1301,
        keys_removed: 0,
        keys_changed: 0
      }]
    },
  ],
  refused: [{
    run_id: 'r3',
    partition: '2026-11-27',
    status: 'insufficient_actuals',
    started_at: '2026-11-28T07:00:00.000000Z',
    error: 'the box scores look incomplete',
    rows_before: null,
    keys_removed: null,
    player_coverage: 0.31,
    game_coverage: 0.5
  }],
};

// Built once, so every refresh sees the same numbers.
const FULL = {
  '/api/summary': {generated_at: GENERATED_AT, latest_date: isoDay(LATEST), systems: SYSTEMS},
  '/api/performance': performance(),
  '/api/calibration': calibration(),
  '/api/duplicates': duplicates(),
  '/api/lock_waits': lockWaits(),
  '/api/locks': LOCKS,
  '/api/runs': runs(),
  '/api/alerts': ALERTS,
  '/api/breakers': BREAKERS,
  '/api/tables': DECLARED,
  '/api/history': HISTORY,
};

const NONE = {
  '/api/summary': {generated_at: GENERATED_AT, latest_date: null, systems: []},
  '/api/performance': {dates: [], systems: []},
  '/api/calibration': {systems: []},
  '/api/duplicates': {dates: [], duplicate_rows: [], audit_groups: []},
  '/api/lock_waits': {points: []},
  '/api/locks': {locks: []},
  '/api/runs': {runs: []},
  '/api/alerts': {alerts: []},
  '/api/breakers': {breakers: []},
  '/api/tables': {tables: []},
  '/api/history': {table: 'prediction_accuracy', partitions: [], refused: []},
};

// ---- server -------------------------------------------------------------------------------

function send(res, code, type, body) {
  res.writeHead(code, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://localhost');
  const p = url.pathname;
  if (req.method !== 'GET') return send(res, 405, 'application/json', '{"error":{"code":"METHOD_NOT_ALLOWED","message":"GET only"}}');

  if (ASSETS[p]) {
    const [file, type] = ASSETS[p];
    return fs.readFile(path.join(WEB, file), (err, buf) => {
      if (err) return send(res, 500, 'text/plain', `cannot read ${file}: ${err.message}`);
      send(res, 200, type, buf);
    });
  }
  if (TOKEN && p.startsWith('/api/') && req.headers.authorization !== `Bearer ${TOKEN}`) {
    res.setHeader('WWW-Authenticate', 'Bearer realm="propgrade"');
    return send(res, 401, 'application/json', '{"error":{"code":"UNAUTHENTICATED","message":"this call needs Authorization: Bearer <token>"}}');
  }
  const table = EMPTY ? NONE : FULL;
  if (FAIL.has(p)) return send(res, 500, 'application/json', '{"error":{"code":"INTERNAL","message":"mock failure"}}');
  if (table[p]) {
    let body = table[p];
    const limit = Number(url.searchParams.get('limit'));
    if (p === '/api/runs' && limit > 0) body = { runs: body.runs.slice(0, limit) };
    if (p === '/api/alerts' && limit > 0) body = { alerts: body.alerts.slice(0, limit) };
    return send(res, 200, 'application/json', JSON.stringify(body));
  }
  send(res, 404, 'application/json', JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route for ${p}` } }));
});

server.listen(port, '127.0.0.1', () => {
  console.log(`mock propgrade dashboard on http://127.0.0.1:${port}/${EMPTY ? ' (empty data)' : ''}`);
});
// Exit at once on a signal (a browser may still hold keep-alive connections open).
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
