// Headless-Chromium check of the propgrade dashboard (against `propgrade serve` or mock_server.js).
//
//   node dashboard_test.js <base-url> <screenshot-path> [--token=TOKEN]
//
// Loads the page in Debian's /usr/bin/chromium through playwright-core (which downloads no
// browser), waits for body[data-loaded="true"], and asserts: no console or page errors, no failed
// requests, the five uPlot charts exist and hold data, the runs table has rows. Saves a
// full-page screenshot, prints a one-line JSON summary and exits 0; or prints what failed and
// exits 1.
//
// With --token the server must protect its reads (server.protect_reads): /api and /metrics
// answer 401 without the token while the page and /healthz do not; the page asks for the
// token once (one form for all its refused calls), asks again after a wrong token, draws
// everything with the right one, keeps it in sessionStorage and needs no token after a reload.
// Only the 401s of /api calls made before the right token was typed are expected.
'use strict';

const { chromium } = require('playwright-core');

const CHARTS = ['hit_rate', 'mae', 'calibration', 'duplicates', 'lock_waits'];
const TABLES = {
  runs: 'runs-table',
  locks: 'locks-table',
  alerts: 'alerts-table',
  breakers: 'breakers-table',
  declared: 'tables-table',
  history: 'history-table',
  refused: 'refused-table'
};
const API_CALLS = 11;  // the page's /api calls per refresh (app.js API)

/** Waits for body[data-loaded] to be one of `states`; returns it, or null after 30 s. */
async function waitLoaded(page, states) {
  try {
    await page.waitForFunction((s) => s.includes(document.body.dataset.loaded), states, { timeout: 30000 });
    return await page.evaluate(() => document.body.dataset.loaded);
  } catch (e) {
    return null;
  }
}

/** Non-null y values per chart (null when the chart is missing). */
function chartPoints(page) {
  return page.evaluate((names) => {
    const out = {};
    for (const name of names) {
      const c = (window.propgradeCharts || {})[name];
      if (!c || !Array.isArray(c.data) || typeof c.setData !== 'function') {
        out[name] = null;
        continue;
      }
      // Non-null y values; the calibration chart's "ideal" reference line is not data.
      out[name] = c.data.slice(1).reduce((n, s, i) => n + (c.series[i + 1].label === 'ideal' ? 0
        : Array.from(s).filter((v) => v != null).length), 0);
    }
    return out;
  }, CHARTS);
}

/** The checks of a fully loaded page: charts with data, tables, the runs table not empty. */
async function checkLoadedPage(page, failures) {
  const charts = await chartPoints(page);
  // lock_waits may be empty only when the API itself returned no points.
  let lockWaitPoints = null;
  if (charts.lock_waits === 0) {
    lockWaitPoints = await page.evaluate(() => {
      const token = sessionStorage.getItem('propgrade.token');
      const headers = token ? { Authorization: 'Bearer ' + token } : {};
      return fetch('/api/lock_waits?days=7', { headers }).then((r) => r.json()).then((j) => j.points.length);
    });
  }
  for (const name of CHARTS) {
    if (charts[name] == null) failures.push(`chart ${name}: missing from window.propgradeCharts`);
    else if (charts[name] === 0 && !(name === 'lock_waits' && lockWaitPoints === 0)) {
      failures.push(`chart ${name}: no non-null point in any series`);
    }
  }
  // Tables: rows in each <tbody>; the runs table must have at least one.
  const tables = {};
  for (const [name, id] of Object.entries(TABLES)) {
    tables[name] = await page.locator(`#${id} > tbody > tr`).count();
  }
  if (tables.runs < 1) failures.push('runs table: no rows');
  // run.sh declares a table and loads a partition of it; the mock has two.
  if (tables.declared < 1) failures.push('declared tables table: no rows');
  // run.sh grades a half-loaded date once (refused); the mock has one refusal too.
  if (tables.history < 1) failures.push('partition history table: no rows');
  if (tables.refused < 1) failures.push('refused writes table: no rows');
  return { charts, tables };
}

async function reportState(page, state, failures) {
  if (state === null) failures.push('body[data-loaded] did not reach the expected state within 30 s');
  if (state === 'error') {
    const banner = await page.textContent('#error-banner').catch(() => '');
    failures.push(`page reported data-loaded="error": ${(banner || '').replace(/\s+/g, ' ').trim()}`);
  }
}

/** Without a browser: what the server answers without, with a wrong and with the token. */
async function checkServerProtects(baseUrl, token, failures) {
  const status = async (path, t) => {
    const headers = t ? { Authorization: 'Bearer ' + t } : {};
    try {
      return (await fetch(new URL(path, baseUrl), { headers })).status;
    } catch (e) {
      return `fetch failed: ${e.message}`;
    }
  };
  for (const path of ['/api/summary', '/api/runs?limit=5', '/metrics']) {
    for (const [t, want] of [['', 401], ['not-the-token', 401], [token, 200]]) {
      const got = await status(path, t);
      if (got !== want) failures.push(`${path} with ${t ? (t === token ? 'the token' : 'a wrong token') : 'no token'}: HTTP ${got}, expected ${want}`);
    }
  }
  for (const path of ['/', '/assets/app.js', '/healthz', '/readyz']) {
    const got = await status(path, '');
    if (got !== 200) failures.push(`${path} without a token: HTTP ${got}, expected 200`);
  }
}

async function main() {
  const args = process.argv.slice(2);
  const tokenArg = args.find((a) => a.startsWith('--token='));
  const token = tokenArg ? tokenArg.slice('--token='.length) : '';
  const [baseUrl, shotPath] = args.filter((a) => !a.startsWith('--'));
  if (!baseUrl || !shotPath || (tokenArg && !token)) {
    console.error('usage: node dashboard_test.js <base-url> <screenshot-path> [--token=TOKEN]');
    return 1;
  }

  const failures = [];
  if (token) await checkServerProtects(baseUrl, token, failures);

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });

    // Until the right token is typed, /api calls answering 401 (and Chromium's console line
    // for each) are what a protected server should do; everything else is a failure.
    let asking = Boolean(token);
    let refused = 0;
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      if (asking && /status of 401/.test(msg.text())) return;
      failures.push(`console error: ${msg.text()}`);
    });
    page.on('pageerror', (err) => failures.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) => failures.push(`request failed: ${req.url()} (${req.failure() && req.failure().errorText})`));
    page.on('response', (res) => {
      if (res.status() < 400) return;
      if (asking && res.status() === 401 && new URL(res.url()).pathname.startsWith('/api/')) {
        ++refused;
        return;
      }
      failures.push(`HTTP ${res.status()} for ${res.url()}`);
    });

    await page.goto(baseUrl, { waitUntil: 'load', timeout: 30000 });

    let summary = {};
    if (token) {
      // The page asks once for all its refused calls, and draws nothing before the token.
      let state = await waitLoaded(page, ['token', 'true', 'error']);
      if (state !== 'token') failures.push(`without a token the page should ask for one; data-loaded="${state}"`);
      const prompts = () => page.evaluate(() => window.propgradeTokenPrompts);
      if (await prompts() !== 1) failures.push(`token form shown ${await prompts()} times for one refresh, expected once`);
      if (refused !== API_CALLS) failures.push(`${refused} /api calls refused before the token, expected ${API_CALLS}`);
      const drawn = Object.values(await chartPoints(page)).filter((n) => n != null).length;
      if (drawn) failures.push(`${drawn} charts drawn without the token`);

      // A wrong token is refused, forgotten, and asked for again.
      await page.fill('#token-input', 'not-the-token');
      await page.click('#token-form button[type=submit]');
      try {
        await page.waitForSelector('#token-error', { state: 'visible', timeout: 30000 });
      } catch (e) {
        failures.push('a wrong token did not bring the form back with "not accepted"');
      }
      if (await prompts() !== 2) failures.push(`token form shown ${await prompts()} times after a wrong token, expected 2`);
      if (await page.evaluate(() => sessionStorage.getItem('propgrade.token')) !== null) {
        failures.push('a refused token was kept in sessionStorage');
      }

      // The right token: everything loads, with no further 401.
      asking = false;
      await page.fill('#token-input', token);
      await page.click('#token-form button[type=submit]');
      state = await waitLoaded(page, ['true', 'error']);
      await reportState(page, state, failures);
      if (!(await page.isHidden('#token-form'))) failures.push('the token form is still shown after the right token');
      summary = await checkLoadedPage(page, failures);
      if (await page.evaluate(() => sessionStorage.getItem('propgrade.token')) !== token) {
        failures.push('the accepted token is not in sessionStorage');
      }

      // A reload in the same tab uses the kept token: no form, no 401.
      await page.reload({ waitUntil: 'load', timeout: 30000 });
      state = await waitLoaded(page, ['true', 'error', 'token']);
      if (state === 'token') failures.push('after a reload the page asked for the token again');
      await reportState(page, state, failures);
      if (await prompts() !== 0) failures.push('after a reload the token form was shown');
      summary = await checkLoadedPage(page, failures);
      summary.refused_before_token = refused;
    } else {
      const state = await waitLoaded(page, ['true', 'error']);
      await reportState(page, state, failures);
      if (await page.evaluate(() => window.propgradeTokenPrompts) > 0) {
        failures.push('the page asked for a token on a server that needs none');
      }
      summary = await checkLoadedPage(page, failures);
    }

    await page.screenshot({ path: shotPath, fullPage: true });

    if (failures.length) {
      console.log('FAIL dashboard_test:\n  ' + failures.join('\n  '));
      return 1;
    }
    console.log(JSON.stringify({ ok: true, url: baseUrl, protected: Boolean(token), screenshot: shotPath,
                                 tables: summary.tables, chart_points: summary.charts,
                                 refused_before_token: summary.refused_before_token }));
    return 0;
  } finally {
    await browser.close();
  }
}

main().then((code) => process.exit(code), (err) => {
  console.log(`FAIL dashboard_test: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
