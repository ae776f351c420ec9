// Headless-Chromium check of the propgrade dashboard (against `propgrade serve` or mock_server.js).
//
//   node dashboard_test.js <base-url> <screenshot-path>
//
// Loads the page in Debian's /usr/bin/chromium through playwright-core (which downloads no
// browser), waits for body[data-loaded="true"], and asserts: no console or page errors, no failed
// requests, the five uPlot charts exist and hold data, the runs table has rows. Saves a
// full-page screenshot, prints a one-line JSON summary and exits 0; or prints what failed and
// exits 1.
'use strict';

const { chromium } = require('playwright-core');

const CHARTS = ['hit_rate', 'mae', 'calibration', 'duplicates', 'lock_waits'];
const TABLES = { runs: 'runs-table', locks: 'locks-table', alerts: 'alerts-table', breakers: 'breakers-table' };

async function main() {
  const [baseUrl, shotPath] = process.argv.slice(2);
  if (!baseUrl || !shotPath) {
    console.error('usage: node dashboard_test.js <base-url> <screenshot-path>');
    return 1;
  }

  const failures = [];
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });

    // Collect everything that went wrong while the page ran.
    page.on('console', (msg) => {
      if (msg.type() === 'error') failures.push(`console error: ${msg.text()}`);
    });
    page.on('pageerror', (err) => failures.push(`page error: ${err.message}`));
    page.on('requestfailed', (req) => failures.push(`request failed: ${req.url()} (${req.failure() && req.failure().errorText})`));
    page.on('response', (res) => {
      if (res.status() >= 400) failures.push(`HTTP ${res.status()} for ${res.url()}`);
    });

    await page.goto(baseUrl, { waitUntil: 'load', timeout: 30000 });

    // Wait for the page to say it is done (or that it failed: no point waiting 30 s then).
    let state = null;
    try {
      await page.waitForFunction(() => ['true', 'error'].includes(document.body.dataset.loaded), null, { timeout: 30000 });
      state = await page.evaluate(() => document.body.dataset.loaded);
    } catch (e) {
      failures.push('body[data-loaded="true"] did not appear within 30 s');
    }
    if (state === 'error') {
      const banner = await page.textContent('#error-banner').catch(() => '');
      failures.push(`page reported data-loaded="error": ${(banner || '').replace(/\s+/g, ' ').trim()}`);
    }

    // Charts: present, uPlot-like, with at least one non-null point in some y series.
    const charts = await page.evaluate((names) => {
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

    // lock_waits may be empty only when the API itself returned no points.
    let lockWaitPoints = null;
    if (charts.lock_waits === 0) {
      lockWaitPoints = await page.evaluate(() =>
        fetch('/api/lock_waits?days=7').then((r) => r.json()).then((j) => j.points.length));
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

    await page.screenshot({ path: shotPath, fullPage: true });

    if (failures.length) {
      console.log('FAIL dashboard_test:\n  ' + failures.join('\n  '));
      return 1;
    }
    console.log(JSON.stringify({ ok: true, url: baseUrl, screenshot: shotPath, tables, chart_points: charts }));
    return 0;
  } finally {
    await browser.close();
  }
}

main().then((code) => process.exit(code), (err) => {
  console.log(`FAIL dashboard_test: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
