// Task-graph benchmark in headless Chromium (playwright-core, like
// tests/e2e). Called by scripts/bench-graph.sh; see there for the options.
//
// Part A, the layout alone, before and after, in one run: a small static
// server (this process) serves web/js/ as /new/, the graph.js of a git
// revision as /old/, and the generator (scripts/lib/graph-gen.mjs). For each
// size and shape, each version lays out the same workflow in a fresh module
// worker (a worker can be stopped when the old code runs past --old-timeout).
// Then the whole drawing as the page does it: after = layout in the worker
// plus the SVG built in slices; before = the old renderGraph on the main
// thread. During each, a setTimeout(0) heartbeat records its longest gap:
// how long the page could not answer input.
//
// Part B, the real page (with --base): the workflow page of each generated
// workflow in the running appliance (release or debug binary), its render
// time (data-render-ms on the svg: layout + drawing), the heartbeat's
// longest gap from the click to the drawn graph, and screenshots.

import { createRequire } from 'node:module';
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
// playwright-core as installed for the browser test (tests/e2e/node_modules).
const { chromium } = createRequire(path.join(ROOT, 'tests', 'e2e', 'package.json'))('playwright-core');
const OLD_DIR = arg('old-dir');
const SIZES = (arg('sizes', '100,400,1200,3000')).split(',').map(Number);
const SHAPES = (arg('shapes', 'pipeline,chain,mesh')).split(',');
const RUNS = Number(arg('runs', '3'));
const OLD_TIMEOUT = Number(arg('old-timeout', '90')) * 1000;
const BASE = arg('base', '');
const PASSWORD = arg('password', '');
const PACK = arg('pack', 'graph_bench');
const SHOTS = arg('screenshots', '');
const JSON_OUT = arg('json', '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html' };
const BENCH_WORKER = `
self.onmessage = async (ev) => {
  const { mod, fn, n, shape, opts } = ev.data;
  try {
    const gen = await import('/gen/graph-gen.mjs');
    const m = await import(mod);
    const tasks = gen.SHAPES[shape](n);
    const started = performance.now();
    const l = opts ? m[fn](tasks, opts) : m[fn](tasks);
    self.postMessage({ ms: performance.now() - started, nodes: l.nodes.length, crossings: l.crossings, width: l.width, height: l.height });
  } catch (err) {
    self.postMessage({ error: String(err && err.stack || err) });
  }
};`;

function serve() {
  const routes = { '/new/': path.join(ROOT, 'web', 'js'), '/old/': OLD_DIR, '/gen/': path.join(ROOT, 'scripts', 'lib') };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/' || url.pathname === '/blank.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/css/app.css"></head><body><main id="m"></main></body></html>');
      return;
    }
    if (url.pathname === '/bench-worker.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(BENCH_WORKER);
      return;
    }
    if (url.pathname === '/css/app.css') {
      res.writeHead(200, { 'content-type': 'text/css' });
      res.end(fs.readFileSync(path.join(ROOT, 'web', 'app.css')));
      return;
    }
    for (const [prefix, dir] of Object.entries(routes)) {
      if (!url.pathname.startsWith(prefix) || !dir) continue;
      const name = url.pathname.slice(prefix.length);
      if (!/^[A-Za-z0-9_.-]+$/.test(name)) break;
      const file = path.join(dir, name);
      if (!fs.existsSync(file)) break;
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
      res.end(fs.readFileSync(file));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const fmt = (ms) => (ms === null || ms === undefined ? '—' : ms >= 10000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const range = (xs) => {
  if (!xs.length) return '—';
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return lo === hi || xs.length === 1 ? fmt(lo) : `${fmt(lo)}–${fmt(hi)}`;
};

/** In the page: one layout in a fresh worker, stopped after timeout ms. */
async function workerLayout(page, spec, timeout) {
  return page.evaluate(({ spec, timeout }) => new Promise((resolve) => {
    const w = new Worker('/bench-worker.js', { type: 'module' });
    const timer = setTimeout(() => {
      w.terminate();
      resolve({ timeout: true });
    }, timeout);
    w.onmessage = (ev) => {
      clearTimeout(timer);
      w.terminate();
      resolve(ev.data);
    };
    w.onerror = (ev) => {
      clearTimeout(timer);
      resolve({ error: ev.message || 'worker error' });
    };
    w.postMessage(spec);
  }), { spec, timeout });
}

/** In the page: the whole drawing with a heartbeat; which = 'new' | 'old'. */
async function pageDraw(page, which, shape, n) {
  return page.evaluate(async ({ which, shape, n }) => {
    const gen = await import('/gen/graph-gen.mjs');
    const tasks = gen.SHAPES[shape](n);
    const main = document.getElementById('m');
    main.textContent = '';
    await new Promise((r) => setTimeout(r, 50));
    let maxGap = 0;
    let last = performance.now();
    let beating = true;
    let beats = 0;
    const beat = () => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      beats++;
      if (beating) setTimeout(beat, 0);
    };
    setTimeout(beat, 0);
    const started = performance.now();
    let svg;
    let layout = null;
    let layoutMs = null;
    if (which === 'new') {
      const g = await import('/new/graph.js');
      const { layout: l, ms, where } = await g.computeLayout(tasks, { collapse: false });
      layout = l;
      layoutMs = ms;
      if (where !== 'worker') throw new Error(`layout ran on the ${where} thread`);
      svg = await g.drawGraph(l, {});
    } else {
      const g = await import('/old/graph.js');
      svg = g.renderGraph({ tasks });
    }
    // As on the workflow page: a scrollable frame; a big graph is drawn near the view.
    const viewport = document.createElement('div');
    viewport.className = 'graph-viewport';
    viewport.appendChild(svg);
    main.appendChild(viewport);
    if (which === 'new') {
      const g = await import('/new/graph.js');
      if (svg.virtual) svg.virtual.attach(viewport);
      g.scrollToEntry(viewport, svg, layout);
      if (svg.virtual) svg.virtual.update();
    }
    svg.getBoundingClientRect();
    await new Promise((r) => requestAnimationFrame(() => r()));
    const total = performance.now() - started;
    beating = false;
    await new Promise((r) => setTimeout(r, 20));
    const nodes = svg.querySelectorAll('.task-node').length;
    if (svg.virtual) svg.virtual.detach();
    main.textContent = '';
    return { total, layoutMs, maxGap, beats, nodes };
  }, { which, shape, n });
}

const results = { machine: { cpus: os.cpus().length, loadavg: os.loadavg().map((x) => x.toFixed(2)) }, layout: [], draw: [], page: [] };
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});

const server = await serve();
const origin = `http://127.0.0.1:${server.address().port}`;
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  await page.goto(`${origin}/blank.html`);

  console.log(`graph bench: ${os.cpus().length} cpus, load average ${results.machine.loadavg.join(' ')}`);
  console.log('\nA. layout alone, in a fresh worker (after: all groups expanded), runs per cell: after ' + RUNS + ', before ' + (RUNS > 1 ? '1-' + RUNS : 1));
  console.log('| shape | tasks | before (git graph.js) | after | ratio | after: crossings, size |');
  console.log('|---|---:|---:|---:|---:|---|');
  const oldTooSlow = {};
  for (const shape of SHAPES) {
    for (const n of SIZES) {
      const after = [];
      let info = null;
      for (let r = 0; r < RUNS; r++) {
        const res = await workerLayout(page, { mod: '/new/layout.js', fn: 'layoutGraph', n, shape, opts: { collapse: false } }, 120000);
        if (res.error) throw new Error(res.error);
        after.push(res.ms);
        info = res;
      }
      const before = [];
      let beforeNote = '';
      if (OLD_DIR && !oldTooSlow[shape]) {
        const runs = n <= 400 ? RUNS : 1;
        for (let r = 0; r < runs; r++) {
          const res = await workerLayout(page, { mod: '/old/graph.js', fn: 'layoutScope', n, shape }, OLD_TIMEOUT);
          if (res.error) throw new Error(res.error);
          if (res.timeout) {
            beforeNote = `> ${fmt(OLD_TIMEOUT)} (stopped)`;
            oldTooSlow[shape] = true;
            break;
          }
          before.push(res.ms);
        }
      } else if (oldTooSlow[shape]) {
        beforeNote = 'not run (smaller size timed out)';
      }
      const r = before.length ? Math.min(...before) / Math.min(...after) : null;
      const ratio = r === null ? '—' : `${r >= 10 ? r.toFixed(0) : r.toFixed(1)}×`;
      console.log(`| ${shape} | ${n} | ${beforeNote || range(before)} | ${range(after)} | ${ratio} | ${info.crossings} crossings, ${Math.round(info.width)}×${Math.round(info.height)} px |`);
      results.layout.push({ shape, n, before, beforeNote, after, crossings: info.crossings, width: info.width, height: info.height });
    }
  }

  console.log('\nB. the whole drawing in the page (after: worker layout + sliced SVG; before: renderGraph on the main thread)');
  console.log('| shape | tasks | before: total / longest heartbeat gap | after: total | after: layout (worker) | after: longest heartbeat gap | task nodes in the DOM, after |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const shape of SHAPES) {
    for (const n of SIZES) {
      const after = [];
      for (let r = 0; r < RUNS; r++) after.push(await pageDraw(page, 'new', shape, n));
      const prior = results.layout.find((x) => x.shape === shape && x.n === n);
      let before = null;
      if (OLD_DIR && prior && prior.before.length && Math.min(...prior.before) < 30000) before = await pageDraw(page, 'old', shape, n);
      const beforeText = before ? `${fmt(before.total)} / ${fmt(before.maxGap)}` : prior && prior.before.length ? 'not run (layout alone > 30 s)' : 'not run';
      console.log(`| ${shape} | ${n} | ${beforeText} | ${range(after.map((a) => a.total))} | ${range(after.map((a) => a.layoutMs))} | ${range(after.map((a) => a.maxGap))} | ${after[0].nodes} |`);
      results.draw.push({ shape, n, before, after });
    }
  }
  await context.close();

  if (BASE) {
    console.log(`\nC. the workflow page of the appliance at ${BASE} (render = layout + drawing, data-render-ms)`);
    console.log('| workflow | tasks | render | layout (where) | longest heartbeat gap, click → graph |');
    console.log('|---|---:|---:|---:|---:|');
    const ctx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const p = await ctx.newPage();
    p.on('pageerror', (err) => console.error(`page error: ${err.message}`));
    await p.goto(`${BASE}/`);
    await p.waitForURL(/#\/login/);
    await p.fill('#login', 'admin');
    await p.fill('#password', PASSWORD);
    await p.click('form.login-form button[type=submit]');
    await p.waitForURL(/#\/packs$/);
    for (const n of SIZES) {
      const ref = `${PACK}.pipeline_${n}`;
      for (let r = 0; r < RUNS; r++) {
        await p.evaluate(() => (location.hash = '#/packs'));
        await p.locator('h1', { hasText: 'Packs' }).waitFor();
        await p.evaluate(() => {
          window.__gap = 0;
          window.__beat = true;
          let last = performance.now();
          const beat = () => {
            const now = performance.now();
            window.__gap = Math.max(window.__gap, now - last);
            last = now;
            if (window.__beat) setTimeout(beat, 0);
          };
          setTimeout(beat, 0);
        });
        await p.evaluate((ref) => (location.hash = `#/workflows/${ref}`), ref);
        const svg = p.locator('#graph svg.task-graph');
        await svg.waitFor({ timeout: 60000 });
        const data = await svg.evaluate((el) => ({ ...el.dataset, nodes: el.querySelectorAll('.task-node').length }));
        const gap = await p.evaluate(() => {
          window.__beat = false;
          return window.__gap;
        });
        console.log(`| ${ref} | ${data.taskCount} | ${fmt(Number(data.renderMs))} | ${fmt(Number(data.layoutMs))} (${data.layoutIn}) | ${fmt(gap)} |`);
        results.page.push({ ref, n, ...data, gap });
      }
      if (SHOTS && n === Math.max(...SIZES)) {
        fs.mkdirSync(SHOTS, { recursive: true });
        // The whole page from its top, then the graph panel below the sticky bar.
        await p.evaluate(() => {
          document.querySelectorAll('.toast').forEach((t) => t.remove());
          window.scrollTo(0, 0);
        });
        await p.screenshot({ path: path.join(SHOTS, `workflow-page-${n}.png`) });
        const toGraph = () => p.evaluate(() => window.scrollTo(0, document.getElementById('graph').getBoundingClientRect().top + window.scrollY - 56));
        await toGraph();
        await p.waitForTimeout(300);
        await p.screenshot({ path: path.join(SHOTS, `workflow-graph-${n}.png`) });
        // Scrolled to the first collapsed group, selected: its details offer to expand it.
        const vp = p.locator('#graph .graph-viewport');
        const group = p.locator('#graph .task-collapsed').first();
        for (let k = 0; k < 80 && (await group.count()) === 0; k++) {
          await vp.evaluate((el) => (el.scrollTop += el.clientHeight / 2));
          await p.waitForTimeout(50);
        }
        if (await group.count()) {
          await group.evaluate((el) => {
            const vpEl = el.closest('.graph-viewport');
            vpEl.scrollTop += el.getBoundingClientRect().top - vpEl.getBoundingClientRect().top - vpEl.clientHeight / 3;
          });
          await p.waitForTimeout(100);
          await group.click();
          await p.locator('#expand-group').waitFor();
          await toGraph();
          await p.screenshot({ path: path.join(SHOTS, `workflow-graph-${n}-group.png`) });
        }
        await vp.evaluate((el) => (el.scrollTop = 0));
        await p.click('#graph .graph-toolbar button[aria-pressed]');
        await p.locator('#graph svg.task-overview').waitFor({ timeout: 60000 });
        await toGraph();
        await p.screenshot({ path: path.join(SHOTS, `workflow-graph-${n}-fit.png`) });
      }
    }
    await ctx.close();
  }
} finally {
  await browser.close();
  server.close();
}
if (JSON_OUT) fs.writeFileSync(JSON_OUT, JSON.stringify(results, null, 2));
