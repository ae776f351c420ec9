// propgrade dashboard: plain JS, no build step. Draws charts with uPlot (loaded before this
// file from /assets/uPlot.iife.min.js) and fills tables from the JSON API of `propgrade serve`.
//
// Test hooks:
//   window.propgradeCharts   name -> uPlot instance ("hit_rate", "mae", "calibration",
//                            "duplicates", "lock_waits")
//   body[data-loaded]        "true" once every API call has been answered and everything is
//                            rendered; "error" (with a visible banner) when a call or a render
//                            failed; "token" while the token form waits for the server's token.
//   window.propgradeTokenPrompts  how many times the token form was shown.
//
// When the server protects its API (server.protect_reads) an /api call answers 401: the page
// then asks for the token once (a small form, however many calls failed), keeps it in
// sessionStorage (this tab only, gone when it closes) and sends it as
// `Authorization: Bearer <token>`. A token the server refuses is forgotten and asked again.
//
// Every string that comes from the API goes into the DOM through textContent, never innerHTML.
'use strict';

(function () {
  const REFRESH_MS = 60 * 1000;

  // The API calls, by name. All GET, same origin, JSON.
  const API = {
    summary: '/api/summary',
    performance: '/api/performance?days=90',
    calibration: '/api/calibration?days=90',
    duplicates: '/api/duplicates?days=90',
    lockWaits: '/api/lock_waits?days=7',
    locks: '/api/locks',
    runs: '/api/runs?limit=50',
    alerts: '/api/alerts?limit=50',
    breakers: '/api/breakers',
    tables: '/api/tables',
    history: '/api/history?dates=14',
  };

  // ---- colours ------------------------------------------------------------------------------

  // One colour per system, the same in every chart. Systems are given colours in the order of
  // /api/summary's list (then first seen), and keep them across refreshes.
  const SYSTEM_PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd',
                          '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
  const systemColours = new Map();
  function systemColour(id) {
    if (!systemColours.has(id)) {
      systemColours.set(id, SYSTEM_PALETTE[systemColours.size % SYSTEM_PALETTE.length]);
    }
    return systemColours.get(id);
  }

  // Processors (lock-wait chart) get their own small, fixed palette.
  const PROCESSOR_COLOURS = { grading: '#1f77b4', daily_performance: '#2ca02c',
                              performance_summary: '#9467bd', consolidation: '#ff7f0e' };
  const EXTRA_PROCESSOR_COLOURS = ['#8c564b', '#17becf', '#e377c2', '#7f7f7f'];
  function processorColour(name, i) {
    return PROCESSOR_COLOURS[name] || EXTRA_PROCESSOR_COLOURS[i % EXTRA_PROCESSOR_COLOURS.length];
  }

  // ---- small helpers ------------------------------------------------------------------------

  /** A finite number, or null (uPlot draws a gap for null). */
  function num(v) {
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  }

  /** "2026-09-01" -> unix seconds at 00:00 UTC (uPlot's time scale is in seconds). */
  function daySeconds(day) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(day));
    if (!m) throw new Error('bad date in API data: ' + String(day));
    return Date.UTC(+m[1], +m[2] - 1, +m[3]) / 1000;
  }

  function pad2(n) { return String(n).padStart(2, '0'); }

  /** unix seconds -> "YYYY-MM-DD" (UTC). */
  function isoDay(ts) {
    const d = new Date(ts * 1000);
    return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  }

  /** unix seconds -> "YYYY-MM-DD HH:MM:SS" (UTC). */
  function isoSecond(ts) {
    const d = new Date(ts * 1000);
    return `${isoDay(ts)} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
  }

  /** "2026-11-28T11:00:02.000000Z" -> "2026-11-28 11:00:02"; anything else is shown as given. */
  function fmtTimestamp(s) {
    if (s == null) return '—';
    const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})/.exec(String(s));
    return m ? `${m[1]} ${m[2]}` : String(s);
  }

  function fmtPct(v, digits) {
    return v == null ? '—' : (v * 100).toFixed(digits) + '%';
  }

  function fmtInt(v) {
    return v == null ? '—' : Number(v).toLocaleString('en-US');
  }

  /** Seconds -> "0.41 s", "42 s", "3 m 05 s", "2 h 10 m". */
  function fmtDuration(sec) {
    if (sec == null || !Number.isFinite(Number(sec))) return '—';
    sec = Number(sec);
    if (Number.isInteger(sec) && sec < 60) return sec + ' s';
    if (sec < 10) return sec.toFixed(2) + ' s';
    if (sec < 60) return Math.round(sec) + ' s';
    const s = Math.round(sec);
    if (s < 3600) return `${Math.floor(s / 60)} m ${pad2(s % 60)} s`;
    return `${Math.floor(s / 3600)} h ${pad2(Math.floor((s % 3600) / 60))} m`;
  }

  // ---- the token (only when the server protects its API) ----------------------------------

  const TOKEN_KEY = 'propgrade.token';
  window.propgradeTokenPrompts = 0;

  function storedToken() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) || '';
    } catch (e) {
      return ''; // storage disabled: every refresh asks again
    }
  }

  function storeToken(token) {
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      // storage disabled: nothing to keep
    }
  }

  /** An /api answer of 401: the token is missing or wrong. */
  class Unauthorized extends Error {}

  // The token typed in the form, when sessionStorage cannot keep it.
  let memoryToken = '';

  function currentToken() { return storedToken() || memoryToken; }

  function askForToken(rejected) {
    const form = document.getElementById('token-form');
    document.getElementById('token-error').hidden = !rejected;
    if (form.hidden) {
      form.hidden = false;
      window.propgradeTokenPrompts += 1;
    }
    document.getElementById('token-input').focus();
    document.body.dataset.loaded = 'token';
  }

  document.getElementById('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = document.getElementById('token-input');
    const token = input.value.trim();
    if (!token) return;
    storeToken(token);
    memoryToken = token;
    input.value = '';
    document.getElementById('token-form').hidden = true;
    refresh();
  });

  async function getJSON(url) {
    let res;
    const headers = { Accept: 'application/json' };
    const token = currentToken();
    if (token) headers.Authorization = 'Bearer ' + token;
    try {
      res = await fetch(url, { headers, cache: 'no-store' });
    } catch (e) {
      throw new Error(`${url}: ${e.message}`);
    }
    if (res.status === 401) {
      await res.text().catch(() => ''); // read to the end: the connection stays usable
      throw new Unauthorized(`${url}: HTTP 401`);
    }
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    try {
      return await res.json();
    } catch (e) {
      throw new Error(`${url}: response is not valid JSON`);
    }
  }

  // ---- charts -------------------------------------------------------------------------------

  window.propgradeCharts = {};
  const CHART_HEIGHT = 270;
  const AXIS = { stroke: '#5f6b7c', font: '12px system-ui, sans-serif',
                 grid: { stroke: '#e9edf2', width: 1 }, ticks: { stroke: '#d5dbe3', width: 1 } };

  /** Keep uPlot's clock in UTC so that dates show as the API gives them. */
  const utc = (ts) => uPlot.tzDate(new Date(ts * 1e3), 'Etc/UTC');

  /** True when some y series of uPlot data has a non-null value (reference lines, labelled
   *  "ideal", do not count: they are drawn whatever the data). */
  function hasPoints(data, series) {
    return data.slice(1).some((s, i) => series[i + 1].label !== 'ideal' && s.some((v) => v != null));
  }

  /** Replace chart `name` in `containerId` with a new uPlot; lay "no data yet" over it if empty. */
  function drawChart(name, containerId, opts, data) {
    const el = document.getElementById(containerId);
    const old = window.propgradeCharts[name];
    if (old) old.destroy();
    delete window.propgradeCharts[name];
    el.textContent = '';

    opts.width = Math.max(300, el.clientWidth);
    opts.height = CHART_HEIGHT;
    opts.axes = (opts.axes || [{}, {}]).map((a) => Object.assign({}, AXIS, a));
    window.propgradeCharts[name] = new uPlot(opts, data, el);

    if (!hasPoints(data, opts.series)) {
      const msg = document.createElement('div');
      msg.className = 'no-data';
      msg.textContent = 'no data yet';
      el.appendChild(msg);
    }
  }

  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

  /** Time-axis tick labels in UTC, 24-hour clock: "Nov 22" for days, "Nov 22" / "06:00" within a day. */
  function timeTicks(u, splits, axisIdx, space, incr) {
    return splits.map((v) => {
      if (v == null) return '';
      const d = new Date(v * 1000);
      const day = `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
      if (incr >= 86400 || (d.getUTCHours() === 0 && d.getUTCMinutes() === 0)) return day;
      return `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
    });
  }
  const TIME_AXIS = { values: timeTicks, space: 60 };

  /** The x series of a chart over calendar dates. */
  const DATE_X = { label: 'Date', value: (u, v) => (v == null ? '—' : isoDay(v)) };

  /** A y series for one system: its colour, a line with gaps at nulls, and small points
   *  (so a lone value between two gaps is still visible). */
  function systemSeries(id, fmt) {
    const colour = systemColour(id);
    return {
      label: id, stroke: colour, width: 1.5, spanGaps: false,
      points: { show: true, size: 3.5, stroke: colour, fill: colour },
      value: (u, v) => (v == null ? '—' : fmt(v)),
    };
  }

  function renderHitRate(perf) {
    const x = perf.dates.map(daySeconds);
    const data = [x];
    const series = [DATE_X];
    for (const s of perf.systems) {
      data.push(s.win_rate.map(num));
      series.push(systemSeries(s.system_id, (v) => fmtPct(v, 1)));
    }
    drawChart('hit_rate', 'chart-hit-rate', {
      tzDate: utc,
      series,
      scales: {
        x: { time: true },
        // Whole-10% bounds around the data, within 0..100%.
        y: { range: (u, min, max) => (min == null ? [0, 1]
          : [Math.max(0, Math.floor(min * 10 - 0.5) / 10), Math.min(1, Math.ceil(max * 10 + 0.5) / 10)]) },
      },
      axes: [TIME_AXIS, { size: 56, values: (u, splits) => splits.map((v) => fmtPct(v, 0)) }],
    }, data);
  }

  function renderMae(perf) {
    const x = perf.dates.map(daySeconds);
    const data = [x];
    const series = [DATE_X];
    for (const s of perf.systems) {
      data.push(s.mae.map(num));
      series.push(systemSeries(s.system_id, (v) => v.toFixed(2)));
    }
    drawChart('mae', 'chart-mae', {
      tzDate: utc,
      series,
      scales: {
        x: { time: true },
        y: { range: (u, min, max) => (min == null ? [0, 10] : [Math.max(0, Math.floor(min - 0.5)), Math.ceil(max + 0.5)]) },
      },
      axes: [TIME_AXIS, { size: 50, label: 'points', labelSize: 18, values: (u, splits) => splits.map((v) => v.toFixed(1)) }],
    }, data);
  }

  function renderCalibration(cal) {
    const deciles = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    // Ideal calibration: the hit rate equals the confidence, i.e. the middle of each decile.
    const data = [deciles, deciles.map((d) => (d - 0.5) / 10)];
    const series = [
      { label: 'Decile', value: (u, v) => (v == null ? '—' : String(v)) },
      { label: 'ideal', stroke: '#8a94a6', width: 1.5, dash: [6, 5], points: { show: false },
        value: (u, v) => fmtPct(v, 0) },
    ];
    for (const s of cal.systems) {
      // Align by decile number, whatever order or subset the API gives.
      const hit = new Array(10).fill(null);
      const decided = new Array(10).fill(null);
      s.deciles.forEach((d, i) => {
        if (d >= 1 && d <= 10) {
          hit[d - 1] = num(s.hit_rate[i]);
          decided[d - 1] = s.decided ? num(s.decided[i]) : null;
        }
      });
      data.push(hit);
      const base = systemSeries(s.system_id, (v) => fmtPct(v, 1));
      // The legend shows the hit rate with the number of decided calls behind it.
      base.value = (u, v, si, idx) => (v == null ? '—'
        : `${fmtPct(v, 1)} (n=${idx == null || decided[idx] == null ? '?' : fmtInt(decided[idx])})`);
      series.push(base);
    }
    drawChart('calibration', 'chart-calibration', {
      series,
      scales: { x: { time: false, range: [0.5, 10.5] }, y: { range: [0, 1] } },
      axes: [
        { label: 'confidence decile', labelSize: 20, incrs: [1], values: (u, splits) => splits.map((v) => String(v)) },
        { size: 56, label: 'hit rate', labelSize: 18, values: (u, splits) => splits.map((v) => fmtPct(v, 0)) },
      ],
    }, data);
  }

  function renderDuplicates(dup) {
    const x = dup.dates.map(daySeconds);
    const rows = dup.duplicate_rows.map(num);
    const groups = dup.audit_groups ? dup.audit_groups.map(num) : x.map(() => null);
    const max = Math.max(0, ...rows.filter((v) => v != null), ...groups.filter((v) => v != null));
    drawChart('duplicates', 'chart-duplicates', {
      tzDate: utc,
      series: [
        DATE_X,
        { label: 'duplicate rows', stroke: '#c0392b', width: 2, fill: 'rgba(192,57,43,0.10)',
          points: { show: true, size: 4, fill: '#c0392b' }, value: (u, v) => fmtInt(v) },
        { label: 'audit groups', stroke: '#e67e22', width: 1.5, dash: [5, 4],
          points: { show: false }, value: (u, v) => fmtInt(v) },
      ],
      // A flat zero sits on the bottom of a 0..1 scale instead of in the middle of nowhere.
      scales: { x: { time: true }, y: { range: () => [0, Math.max(1, Math.ceil(max * 1.15))] } },
      axes: [TIME_AXIS, { size: 50, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 10000],
                   values: (u, splits) => splits.map((v) => fmtInt(v)) }],
    }, [x, rows, groups]);
  }

  /** A wait in seconds, readable from microseconds to minutes: "0.25 ms", "12 ms", "3.4 s". */
  function fmtWait(v) {
    if (v === 0) return '0';
    if (v < 0.001) return (v * 1000).toFixed(2) + ' ms';
    if (v < 1) return parseFloat((v * 1000).toPrecision(3)) + ' ms';
    return v.toFixed(v < 10 ? 1 : 0) + ' s';
  }

  function renderLockWaits(lw) {
    // A scatter: one point per lock acquisition, one series per processor. uPlot wants one
    // shared, sorted x array, so each point gets its own index and the other series are null there.
    const points = lw.points
      .filter((p) => num(p.at) != null)
      .sort((a, b) => a.at - b.at);
    const processors = [...new Set(points.map((p) => String(p.processor)))].sort();
    const x = points.map((p) => p.at);
    const data = [x];
    const series = [{ label: 'At', value: (u, v) => (v == null ? '—' : isoSecond(v)) }];
    let max = 0;
    processors.forEach((proc, i) => {
      data.push(points.map((p) => (String(p.processor) === proc ? num(p.wait_seconds) : null)));
      const colour = processorColour(proc, i);
      series.push({
        label: proc, stroke: colour, paths: () => null, // points only, no line
        points: { show: true, size: 6, stroke: colour, fill: colour },
        value: (u, v) => (v == null ? '—' : fmtWait(v)),
      });
    });
    for (const p of points) max = Math.max(max, num(p.wait_seconds) || 0);
    if (processors.length === 0) { // keep one (empty) series so the chart still has a y axis
      data.push([]);
      series.push({ label: 'wait', stroke: '#1f77b4', paths: () => null, value: () => '—' });
    }
    drawChart('lock_waits', 'chart-lock-waits', {
      tzDate: utc,
      series,
      cursor: { points: { size: 9 } },
      scales: {
        x: { time: true },
        y: { range: () => [0, max > 0 ? max * 1.15 : 1] },
      },
      axes: [TIME_AXIS, { size: 64, label: 'wait', labelSize: 18,
                   values: (u, splits) => splits.map(fmtWait) }],
    }, data);
  }

  // Keep charts as wide as their cards.
  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const chart of Object.values(window.propgradeCharts)) {
        const el = chart.root.parentElement;
        if (el) chart.setSize({ width: Math.max(300, el.clientWidth), height: CHART_HEIGHT });
      }
    }, 150);
  });

  // ---- tables -------------------------------------------------------------------------------

  /** A <td> with text (escaped by textContent) and optional class names. */
  function td(text, className) {
    const cell = document.createElement('td');
    cell.textContent = text == null ? '—' : String(text);
    if (className) cell.className = className;
    return cell;
  }

  /** A <td> holding a coloured pill. */
  function pillTd(text, kind) {
    const cell = document.createElement('td');
    const span = document.createElement('span');
    span.className = 'pill ' + kind;
    span.textContent = text == null ? '—' : String(text);
    cell.appendChild(span);
    return cell;
  }

  /** Replace the rows of table `id` with `rows` (arrays of <td>); show its "empty" note if none. */
  function fillTable(id, rows) {
    const table = document.getElementById(id);
    const tbody = table.tBodies[0];
    tbody.replaceChildren(...rows.map((cells) => {
      const tr = document.createElement('tr');
      tr.append(...cells);
      return tr;
    }));
    const empty = table.parentElement.querySelector('.empty');
    if (empty) empty.hidden = rows.length > 0;
  }

  /** Run status -> pill colour: green when fine, red when failed, amber when refused for safety. */
  function statusKind(status) {
    const s = String(status);
    if (s === 'success' || s === 'no_actuals' || s === 'no_predictions') return 'ok';
    if (s === 'failed' || s === 'unavailable') return 'bad';
    if (s.startsWith('lock_') || s === 'fenced_out' || s === 'circuit_open' ||
        s === 'insufficient_actuals' || s === 'shrink_refused')
      return 'warn';
    if (s === 'unchanged') return 'ok';
    return 'neutral'; // e.g. queued, running
  }

  function breakerKind(state) {
    const s = String(state).toLowerCase();
    if (s === 'closed') return 'ok';
    if (s === 'open') return 'bad';
    return 'warn'; // half_open
  }

  function severityKind(sev) {
    const s = String(sev).toUpperCase();
    if (s === 'CRITICAL') return 'bad';
    if (s === 'WARNING') return 'warn';
    return 'neutral';
  }

  function renderRuns(runs) {
    fillTable('runs-table', runs.runs.map((r) => [
      td(fmtTimestamp(r.started_at), 'nowrap'),
      td(r.processor),
      td(r.partition, 'nowrap'),
      pillTd(r.status, statusKind(r.status)),
      td(fmtDuration(r.duration_seconds), 'num'),
      td(fmtInt(r.rows_written), 'num'),
      td(fmtInt(r.duplicate_rows), r.duplicate_rows > 0 ? 'num nonzero' : 'num'),
      td(r.run_id, 'mono nowrap'),
      td(r.error == null ? '' : r.error, 'error-text'),
    ]));
  }

  function renderLocks(locks) {
    fillTable('locks-table', locks.locks.map((l) => [
      td(l.key, 'mono nowrap'),
      td(l.holder_id, 'mono nowrap'),
      td(l.token, 'num'),
      td(fmtDuration(l.held_seconds), 'num'),
      td(fmtDuration(l.expires_in_seconds), 'num'),
    ]));
  }

  function renderAlerts(alerts) {
    fillTable('alerts-table', alerts.alerts.map((a) => [
      td(fmtTimestamp(a.at), 'nowrap'),
      pillTd(a.severity, severityKind(a.severity)),
      td(a.type, 'nowrap'),
      td(a.subject, 'mono'),
      td(a.summary, 'summary-text'),
      a.delivered == null ? td('—') : pillTd(a.delivered ? 'yes' : 'no', a.delivered ? 'ok' : 'bad'),
      td(fmtInt(a.folded_count), 'num'),
    ]));
  }

  function renderBreakers(b) {
    fillTable('breakers-table', b.breakers.map((br) => [
      td(br.name),
      pillTd(br.state, breakerKind(br.state)),
      td(fmtInt(br.consecutive_failures), 'num'),
      td(fmtTimestamp(br.opened_at), 'nowrap'),
    ]));
  }

  function renderTables(t) {
    fillTable(
        'tables-table',
        t.tables.map(
            (tb) =>
                [td(tb.name),
                 td(tb.processor),
                 td(tb.partition_column),
                 td(fmtInt(tb.partitions), 'num'),
                 td(tb.newest_partition == null ? '—' : tb.newest_partition, 'nowrap'),
                 td(fmtInt(tb.newest_rows), 'num'),
                 td(fmtTimestamp(tb.last_written_at), 'nowrap'),
                 tb.last_run == null ? td('—') :
                                       pillTd(tb.last_run.status, statusKind(tb.last_run.status)),
                 td(fmtInt(tb.duplicate_rows_7d), tb.duplicate_rows_7d > 0 ? 'num nonzero' : 'num'),
    ]));
  }

  function renderHistory(h) {
    fillTable('history-table', h.partitions.slice().reverse().map((p) => {
      const last = p.writes.length ? p.writes[p.writes.length - 1] : null;
      const removed = last ? last.keys_removed : 0;
      return [
        td(p.partition, 'nowrap'),
        td(fmtInt(p.rows_now), 'num'),
        td(p.writes.map((w) => (w.kind === 'rollback' ? '↺' : '') + fmtInt(w.rows_after))
               .join(' → ') ||
           '—'),
        td(fmtInt(removed), removed > 0 ? 'num nonzero' : 'num'),
      ];
    }));
    fillTable(
        'refused-table',
        h.refused.map(
            (r) =>
                [td(r.partition, 'nowrap'),
                 pillTd(r.status, statusKind(r.status)),
                 td(fmtTimestamp(r.started_at), 'nowrap'),
                 td(r.rows_before == null ? '—' : fmtInt(r.rows_before), 'num'),
                 td(r.keys_removed == null ? '—' : fmtInt(r.keys_removed), 'num'),
                 td(r.player_coverage == null ? '—' : String(r.player_coverage), 'num'),
                 td(r.run_id),
    ]));
  }

  function renderSummary(sum) {
    (sum.systems || []).forEach(systemColour); // fix colour order before any chart is drawn
    document.getElementById('latest-date').textContent = sum.latest_date == null ? 'none yet' : sum.latest_date;
    document.getElementById('generated-at').textContent = fmtTimestamp(sum.generated_at);
    const n = (sum.systems || []).length;
    document.getElementById('system-count').textContent = `${n} system${n === 1 ? '' : 's'}`;
  }

  // ---- load / refresh -----------------------------------------------------------------------

  // What to draw, and from which API answer. Summary goes first: it fixes the system colours.
  const RENDERERS = [
    ['summary', 'header', renderSummary],
    ['performance', 'hit-rate chart', renderHitRate],
    ['performance', 'MAE chart', renderMae],
    ['calibration', 'calibration chart', renderCalibration],
    ['duplicates', 'duplicates chart', renderDuplicates],
    ['lockWaits', 'lock-wait chart', renderLockWaits],
    ['locks', 'locks table', renderLocks],
    ['runs', 'runs table', renderRuns],
    ['alerts', 'alerts table', renderAlerts],
    ['breakers', 'breakers table', renderBreakers],
    ['tables', 'declared tables table', renderTables],
    ['history', 'partition history table', renderHistory],
  ];

  function showErrors(errors) {
    const banner = document.getElementById('error-banner');
    if (errors.length === 0) {
      banner.hidden = true;
      banner.textContent = '';
      return;
    }
    banner.textContent = 'Could not load part of the dashboard:\n' + errors.join('\n');
    banner.hidden = false;
  }

  let busy = false;
  async function refresh() {
    if (busy || !document.getElementById('token-form').hidden) return; // waiting for the token
    busy = true;
    const errors = [];
    try {
      if (typeof uPlot === 'undefined') throw new Error('/assets/uPlot.iife.min.js did not load');
      const names = Object.keys(API);
      const sent = currentToken();
      const answers = await Promise.allSettled(names.map((n) => getJSON(API[n])));
      if (answers.some((a) => a.status === 'rejected' && a.reason instanceof Unauthorized)) {
        // One form for all the calls that were refused; draw nothing until the token is known.
        if (sent && currentToken() === sent) {
          storeToken('');
          memoryToken = '';
        }
        askForToken(Boolean(sent));
        return;
      }
      const data = {};
      answers.forEach((a, i) => {
        if (a.status === 'fulfilled') data[names[i]] = a.value;
        else errors.push(a.reason.message);
      });
      // Draw whatever arrived, each part on its own, so one bad answer does not blank the page.
      for (const [key, what, render] of RENDERERS) {
        if (!(key in data)) continue;
        try {
          render(data[key]);
        } catch (e) {
          errors.push(`${what}: ${e.message}`);
        }
      }
    } catch (e) {
      errors.push(e.message);
    } finally {
      busy = false;
    }
    showErrors(errors);
    if (errors.length) console.error('propgrade dashboard: ' + errors.join('; '));
    document.body.dataset.loaded = errors.length ? 'error' : 'true';
  }

  refresh();
  setInterval(refresh, REFRESH_MS);
})();
