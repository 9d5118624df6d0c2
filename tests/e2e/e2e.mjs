// End-to-end test of the attune web UI in headless Debian Chromium, driven by
// playwright-core. scripts/e2e.sh starts the real binary and calls this with
// --base http://127.0.0.1:PORT --packs-dir DIR --password PW [--screenshots DIR].
//
// Scenario: log in, register the demo pack from the "On disk, not
// registered" list, upload a pack archive and see its diagnostics (and a
// refused non-archive), download the demo's archive, create a pack whose folder holds a broken workflow,
// press Validate, find the error's code and line on the page, fix the file,
// press Sync, see the workflow registered, open the workflow page and count
// one SVG node per task, change it and open its diff (changed line, changed
// task marked), restore the first revision from History. Every request must
// go to the appliance itself.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { pipeline, toYaml } from '../../scripts/lib/graph-gen.mjs';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const BASE = arg('base');
const PACKS_DIR = arg('packs-dir');
const PASSWORD = arg('password');
const SHOTS = arg('screenshots', '');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
if (!BASE || !PACKS_DIR || !PASSWORD) {
  console.error('usage: node e2e.mjs --base URL --packs-dir DIR --password PW [--screenshots DIR]');
  process.exit(2);
}
const appOrigin = new URL(BASE).origin;
const TIMEOUT = 15000;

const PACK = 'e2e_pack';
const BROKEN = `label: Deploy application
version: "1.0.0"
description: Build, deploy and verify
tasks:
  - name: build
    action: core.echo
    input:
      message: "building"
    next:
      - when: "{{ succeeded() }}"
        do: [deploy]
      - when: "{{ failed() }}"
        do: [notify]
  - name: deploy
    action: core.noop
    next:
      - when: "{{ succeeded() }}"
        do: [verfy]
  - name: verify
    action: core.noop
  - name: notify
    action: core.echo
    input:
      message: "build failed"
`;
const FIXED = BROKEN.replace('do: [verfy]', 'do: [verify]');
const EXTRA = `label: Extra
version: "1.0.0"
tasks:
  - name: only
    action: core.noop
`;
const TASK_NAMES = ['build', 'deploy', 'verify', 'notify'];
const BROKEN_LINE = BROKEN.split('\n').findIndex((l) => l.includes('verfy')) + 1;
const BROKEN_COLUMN = BROKEN.split('\n')[BROKEN_LINE - 1].indexOf('verfy') + 1;

const results = [];
async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    results.push({ name, ok: false });
    console.log(`not ok - ${name}: ${(err && err.message ? err.message : String(err)).split('\n')[0]}`);
  }
}

/** Await a promise; a failure names what was awaited. */
async function labelled(what, promise) {
  try {
    return await promise;
  } catch (err) {
    throw new Error(`${what}: ${(err && err.message ? err.message : String(err)).split('\n')[0]}`);
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

const workflowsDir = path.join(PACKS_DIR, PACK, 'workflows');
fs.mkdirSync(workflowsDir, { recursive: true });
const workflowFile = path.join(workflowsDir, 'deploy.yaml');
fs.writeFileSync(workflowFile, BROKEN);
const extraFile = path.join(workflowsDir, 'extra.yaml');
fs.writeFileSync(extraFile, EXTRA);

// The demo pack on disk, not registered; an archive of a pack with a broken
// workflow to upload; a file that is not an archive.
const here0 = path.dirname(new URL(import.meta.url).pathname);
fs.cpSync(path.join(here0, '..', '..', 'examples', 'packs', 'demo'), path.join(PACKS_DIR, 'demo'), { recursive: true });
const uploadDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attune-e2e-upload-'));
fs.mkdirSync(path.join(uploadDir, 'uploaded', 'workflows'), { recursive: true });
fs.writeFileSync(path.join(uploadDir, 'uploaded', 'pack.yaml'), 'ref: uploaded\nlabel: Uploaded Pack\nversion: "2.1.0"\n');
fs.writeFileSync(path.join(uploadDir, 'uploaded', 'workflows', 'deploy.yaml'), BROKEN);
const uploadArchive = path.join(uploadDir, 'uploaded.tar.gz');
execFileSync('tar', ['-czf', uploadArchive, '-C', uploadDir, 'uploaded']);
const notArchive = path.join(uploadDir, 'notes.txt');
fs.writeFileSync(notArchive, 'just some text\n');

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attune-e2e-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1280, height: 900 },
  acceptDownloads: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
context.setDefaultTimeout(TIMEOUT);

const foreign = [];
const pageErrors = [];
context.on('request', (req) => {
  const url = req.url();
  if (url.startsWith('data:') || url === 'about:blank') return;
  let origin = '';
  try {
    origin = new URL(url).origin;
  } catch {
    origin = url;
  }
  if (origin !== appOrigin) foreign.push(url);
});
const page = context.pages()[0] || (await context.newPage());
page.on('pageerror', (err) => pageErrors.push(err.message));
page.on('console', (msg) => {
  if (msg.type() === 'error') pageErrors.push(msg.text());
});

const shot = async (name, locator) => {
  if (!SHOTS) return;
  fs.mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, name);
  // No toast over the content, and the sticky top bar at the top of the picture.
  await page.evaluate(() => {
    document.querySelectorAll('.toast').forEach((t) => t.remove());
    window.scrollTo(0, 0);
  });
  if (locator) {
    const box = await locator.boundingBox();
    const scrollY = await page.evaluate(() => window.scrollY);
    await page.screenshot({ path: file, fullPage: true, clip: { x: box.x, y: box.y + scrollY, width: box.width, height: box.height } });
  } else {
    await page.screenshot({ path: file, fullPage: true });
  }
};

await step('an anonymous visit lands on the login page', async () => {
  await page.goto(`${BASE}/`);
  await page.waitForURL(/#\/login/);
  await page.locator('#password').waitFor();
});

await step('log in as admin', async () => {
  await page.fill('#login', 'admin');
  await page.fill('#password', PASSWORD);
  await page.click('form.login-form button[type=submit]');
  await page.waitForURL(/#\/packs$/);
  await page.locator('h1', { hasText: 'Packs' }).waitFor();
  await page.locator('#who', { hasText: 'admin' }).waitFor();
});

await step('the demo folder is listed "On disk, not registered" and registers from the UI', async () => {
  const item = page.locator('#available li[data-folder="demo"]');
  await item.waitFor();
  assert(/Demo Pack/.test((await item.textContent()) || ''), 'label not shown');
  // A folder without pack.yaml is listed with its problem, its button disabled.
  const e2e = page.locator(`#available li[data-folder="${PACK}"]`);
  await e2e.locator('.diag', { hasText: 'no pack.yaml' }).waitFor();
  assert(await e2e.locator(`button[data-register="${PACK}"]`).isDisabled(), 'register enabled for a folder without pack.yaml');
  await shot('packs-available.png');
  await page.click('button[data-register="demo"]');
  await page.locator('.available-result .group[data-ref="demo.broken_deploy"][data-status="failed"] .diag[data-code="unknown-task"]').waitFor();
  await page.locator('.packs-table tr[data-ref="demo"]').waitFor();
  await page.locator('#available li[data-folder="demo"]').waitFor({ state: 'detached' });
});

await step('upload a pack archive: progress, then the sync result with its diagnostics', async () => {
  const details = page.locator('#upload-pack');
  if (!(await details.evaluate((el) => el.open))) await page.click('#upload-pack > summary');
  await page.setInputFiles('#upload-file', uploadArchive);
  await page.locator('#upload-chosen', { hasText: 'uploaded.tar.gz' }).waitFor();
  await page.click('#upload-send');
  const diag = page.locator('#upload-result .group[data-ref="uploaded.deploy"] .diag[data-code="unknown-task"]').first();
  await diag.waitFor();
  assert((await diag.getAttribute('data-line')) === String(BROKEN_LINE), 'line differs');
  await page.locator('#upload-result a#uploaded-link').waitFor();
  await page.locator('.packs-table tr[data-ref="uploaded"]').waitFor();
  await shot('upload-result.png');
  // Again without "Replace": 409, said in the panel.
  await page.click('#upload-send');
  await page.locator('#upload-result .notice-error', { hasText: 'already registered' }).waitFor();
  // Not an archive: the appliance's message, in the panel.
  await page.setInputFiles('#upload-file', notArchive);
  await page.click('#upload-send');
  await page.locator('#upload-result .notice-error', { hasText: 'not a .tar.gz or .zip' }).waitFor();
});

await step('the pack page downloads the pack archive', async () => {
  await page.goto(`${BASE}/#/packs/demo`);
  await page.locator('h1', { hasText: 'demo' }).waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#btn-download')]);
  assert(download.suggestedFilename() === 'demo.tar.gz', `file name '${download.suggestedFilename()}'`);
  const file = await download.path();
  const listing = execFileSync('tar', ['-tzf', file]).toString().split('\n').filter(Boolean);
  assert(listing.includes('demo/pack.yaml') && listing.includes('demo/workflows/hello.yaml'), `archive holds ${listing.join(',')}`);
  await page.goto(`${BASE}/#/packs`);
  await page.locator('h1', { hasText: 'Packs' }).waitFor();
});

await step('create a pack whose folder holds a broken workflow', async () => {
  const details = page.locator('#new-pack');
  if (!(await details.evaluate((el) => el.open))) await page.click('#new-pack > summary');
  await page.fill('#new-ref', PACK);
  await page.fill('#new-label', 'E2E Pack');
  await page.click('#create-pack');
  await page.waitForURL(new RegExp(`#/packs/${PACK}$`));
  await page.locator('h1', { hasText: PACK }).waitFor();
});

await step(`Validate (pressed from the keyboard) shows unknown-task at line ${BROKEN_LINE} with its snippet`, async () => {
  await page.locator('#btn-validate').focus();
  await page.keyboard.press('Enter');
  const diag = page.locator('.result-validate .diag[data-code="unknown-task"]').first();
  await diag.waitFor();
  const loc = (await diag.locator('.loc').textContent()) || '';
  assert(loc.endsWith(`deploy.yaml:${BROKEN_LINE}:${BROKEN_COLUMN}`), `location was '${loc}'`);
  assert((await diag.getAttribute('data-line')) === String(BROKEN_LINE), 'data-line differs');
  const marked = (await diag.locator('.sl-mark .ln').textContent() || '').trim();
  assert(marked === String(BROKEN_LINE), `marked snippet line was '${marked}'`);
  const underlined = await diag.locator('.col-mark').textContent();
  assert(underlined === 'verfy', `underlined '${underlined}'`);
  const msg = await diag.locator('.diag-msg').textContent();
  assert(/verfy/.test(msg || ''), `message was '${msg}'`);
  await page.locator(`.group-failed[data-ref="${PACK}.deploy"]`).waitFor();
});

await step('fix the file on disk, press Sync, see the workflow registered', async () => {
  fs.writeFileSync(workflowFile, FIXED);
  await page.click('#btn-sync');
  await page.locator(`.result-sync .group[data-ref="${PACK}.deploy"][data-status="created"]`).waitFor();
  await page.locator(`#pack-workflows tr[data-ref="${PACK}.deploy"]`).waitFor();
  assert((await page.locator('.result-sync .group-failed').count()) === 0, 'a workflow still failed');
});

await step('the workflow page draws one SVG node per task', async () => {
  await page.click(`#pack-workflows a[href="#/workflows/${PACK}.deploy"]`);
  await page.waitForURL(new RegExp(`#/workflows/${PACK}\\.deploy$`));
  await page.locator('svg.task-graph .task-node').first().waitFor();
  const names = await page.locator('svg.task-graph .task-node').evaluateAll((els) => els.map((el) => el.getAttribute('data-task')));
  assert(names.length === TASK_NAMES.length, `found ${names.length} nodes: ${names.join(',')}`);
  assert([...names].sort().join() === [...TASK_NAMES].sort().join(), `nodes ${names.join(',')}`);
  const edges = await page.locator('svg.task-graph path.edge').count();
  assert(edges === 3, `found ${edges} edges, expected 3`);
  const entry = await page.locator('svg.task-graph .task-entry').evaluateAll((els) => els.map((el) => el.getAttribute('data-task')));
  assert(entry.join() === 'build', `entry tasks ${entry.join(',')}`);
});

await step('the enabled toggle disables the workflow and the change persists', async () => {
  const toggle = page.locator('#enabled-toggle');
  assert((await toggle.getAttribute('aria-checked')) === 'true', 'not enabled at first');
  await toggle.click();
  await page.locator('#enabled-toggle[aria-checked="false"]').waitFor();
  await page.reload();
  await page.locator('#enabled-toggle[aria-checked="false"]').waitFor();
  await page.locator('#enabled-toggle').click();
  await page.locator('#enabled-toggle[aria-checked="true"]').waitFor();
});

await step('a changed workflow\'s diff shows the changed line and marks the changed task in the graph', async () => {
  // r1 is FIXED (the sync above); change one task's input and sync again.
  fs.writeFileSync(workflowFile, FIXED.replace('message: "build failed"', 'message: "build broke"'));
  await page.goto(`${BASE}/#/packs/${PACK}`);
  await page.locator(`#pack-workflows tr[data-ref="${PACK}.deploy"]`).waitFor();
  await page.click('#btn-sync');
  await page.locator(`.result-sync .group[data-ref="${PACK}.deploy"]`).waitFor();
  await page.goto(`${BASE}/#/workflows/${PACK}.deploy`);
  await page.click('#tab-history');
  await page.waitForURL(new RegExp(`#/workflows/${PACK}\\.deploy/history$`));
  await page.locator('.revisions-table tr[data-rev="2"]').waitFor();
  await page.locator('.revisions-table tr[data-rev="2"] a', { hasText: 'Diff' }).click();
  await page.waitForURL(/\/diff\?from=1&to=2$/);
  await page.locator('#semantic-summary', { hasText: '1 task changed' }).waitFor();
  const inserted = await page.locator('#text-diff .diff-table .dl-insert').allTextContents();
  assert(inserted.some((t) => t.includes('message: "build broke"')), `inserted lines: ${inserted.join(' | ')}`);
  const deleted = await page.locator('#text-diff .diff-table .dl-delete').allTextContents();
  assert(deleted.some((t) => t.includes('message: "build failed"')), `deleted lines: ${deleted.join(' | ')}`);
  // The graph is laid out in a worker: wait until it is drawn and marked.
  await page.locator('#diff-graph svg.task-graph .task-node.diff-mark').first().waitFor();
  const marked = await page.locator('#diff-graph svg.task-graph .task-node.diff-mark').evaluateAll((els) => els.map((el) => `${el.getAttribute('data-task')}:${el.getAttribute('data-diff')}`));
  assert(marked.join() === 'notify:changed', `marked tasks ${marked.join(',')}`);
  await shot('workflow-diff.png');
});

await step('History restores a revision after a confirmation, and the file on disk follows', async () => {
  await page.goto(`${BASE}/#/workflows/${PACK}.deploy/history`);
  await page.locator('.revisions-table button[data-restore="1"]').click();
  const confirm = page.locator('#btn-confirm-restore');
  await confirm.waitFor();
  assert((await page.locator('.revisions-table tr[data-rev="3"]').count()) === 0, 'restored before the confirmation');
  await shot('workflow-history-restore.png');
  await confirm.click();
  await page.locator('.revisions-table tr[data-rev="3"]', { hasText: 'restore' }).waitFor();
  assert(fs.readFileSync(workflowFile, 'utf8') === FIXED, 'the file on disk is not revision 1');
});

await step('Sync with prune shows the plan and removes nothing before confirmation', async () => {
  await page.goto(`${BASE}/#/packs/${PACK}`);
  await page.locator(`#pack-workflows tr[data-ref="${PACK}.extra"]`).waitFor();
  fs.rmSync(extraFile);
  await page.check('#opt-prune');
  await page.click('#btn-sync');
  const confirm = page.locator('#btn-confirm-prune');
  await confirm.waitFor();
  const doomed = await page.locator('.confirm .doomed').textContent();
  assert(doomed === `${PACK}.extra`, `plan lists '${doomed}'`);
  // still registered while the user has not confirmed, and after Cancel
  const stillThere = () => page.evaluate(async (ref) => {
    const token = JSON.parse(sessionStorage.getItem('attune.session')).access_token;
    const res = await fetch(`/api/v1/workflows/${ref}`, { headers: { Authorization: `Bearer ${token}` } });
    return res.status;
  }, `${PACK}.extra`);
  assert((await stillThere()) === 200, 'the workflow went away before the confirmation');
  await page.locator('.confirm button', { hasText: 'Cancel' }).click();
  await page.locator('#results', { hasText: 'nothing was changed' }).waitFor();
  assert((await stillThere()) === 200, 'the workflow went away after Cancel');
  await page.click('#btn-sync');
  await page.click('#btn-confirm-prune');
  await page.locator(`.result-sync .group[data-ref="${PACK}.extra"][data-status="pruned"]`).waitFor();
  // the pruned workflow keeps its revisions: the result links to its history
  const history = page.locator(`.result-sync .group[data-ref="${PACK}.extra"] a[href="#/workflows/${PACK}.extra/history"]`);
  await history.waitFor();
  // the registered list is refreshed after the result: the pruned row goes away
  await page.locator(`#pack-workflows tr[data-ref="${PACK}.extra"]`).waitFor({ state: 'detached' });
  await page.locator(`#pack-workflows tr[data-ref="${PACK}.deploy"]`).waitFor();
});

await step('with the pack page open, a file changed on disk shows its new diagnostic without a reload (watch mode, live events)', async () => {
  await page.reload();
  await page.locator(`#pack-workflows tr[data-ref="${PACK}.deploy"]`).waitFor();
  await page.locator('#live-state[data-state="on"]').waitFor();
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  fs.writeFileSync(workflowFile, BROKEN);
  const diag = page.locator('.result-sync .diag[data-code="unknown-task"]').first();
  await diag.waitFor();
  const loc = (await diag.locator('.loc').textContent()) || '';
  assert(loc.endsWith(`deploy.yaml:${BROKEN_LINE}:${BROKEN_COLUMN}`), `location was '${loc}'`);
  await page.locator('#live-updated', { hasText: 'updated just now' }).waitFor();
  await page.locator('#results', { hasText: 'file change on disk' }).waitFor();
  assert(await page.evaluate(() => window.__sameDocument === true), 'the page was reloaded');
  await shot('pack-live-update.png');
  // Fixed again on disk: the error goes away, still without a reload.
  fs.writeFileSync(workflowFile, FIXED);
  await diag.waitFor({ state: 'detached' });
  assert(await page.evaluate(() => window.__sameDocument === true), 'the page was reloaded');
});

await step('the paste-YAML page marks the error on the text as you type', async () => {
  await page.click('#topnav a[href="#/validate"]');
  await page.locator('#v-yaml').waitFor();
  await page.fill('#v-pack', PACK);
  await page.fill('#v-yaml', BROKEN);
  await page.locator('.validate-diags .diag[data-code="unknown-task"]').waitFor();
  const gutter = (await page.locator('.editor-gutter .gl-error').first().textContent() || '').trim();
  assert(gutter === String(BROKEN_LINE), `gutter marked line '${gutter}'`);
  assert((await page.locator('.editor-backdrop mark.ul-error').first().textContent()) === 'verfy', 'column not underlined');
  await page.fill('#v-yaml', FIXED);
  await page.locator('#v-status .badge-ok, #v-status .badge-warning').first().waitFor();
  await page.locator('#v-graph .task-node').first().waitFor();
});

await step('the Validate page redraws the graph only when its shape changes', async () => {
  const results = async () => Number(await page.locator('#v-diags').getAttribute('data-results'));
  const draws = async () => Number(await page.locator('#v-graph').getAttribute('data-draws'));
  const before = await draws();
  let seen = await results();
  // Same tasks and transitions, another message: the graph stays.
  await page.fill('#v-yaml', FIXED.replace('message: "building"', 'message: "building the app"'));
  await page.locator(`#v-diags[data-results="${seen + 1}"]`).waitFor();
  assert((await draws()) === before, 'the graph was redrawn for a change it does not show');
  seen += 1;
  // Another transition: redrawn, with the new edge.
  await page.fill('#v-yaml', FIXED.replace('do: [verify]', 'do: [verify, notify]'));
  await page.locator(`#v-diags[data-results="${seen + 1}"]`).waitFor();
  await page.locator(`#v-graph[data-draws="${before + 1}"]`).waitFor();
  await page.locator('#v-graph path.edge[data-from="deploy"][data-to="notify"]').waitFor();
});

await step('a 1,200-task workflow: laid out in the worker, drawn near the view, groups expand on demand', async () => {
  const big = pipeline(1200);
  fs.writeFileSync(path.join(workflowsDir, 'big.yaml'), toYaml(big, 'Big pipeline'));
  // watch mode registers it; wait for the API to know it
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const status = await page.evaluate(async (ref) => {
      const token = JSON.parse(sessionStorage.getItem('attune.session')).access_token;
      return (await fetch(`/api/v1/workflows/${ref}`, { headers: { Authorization: `Bearer ${token}` } })).status;
    }, `${PACK}.big`);
    if (status === 200) break;
    assert(Date.now() < deadline, `the big workflow was not registered (status ${status})`);
    await page.waitForTimeout(200);
  }
  await page.goto(`${BASE}/#/workflows/${PACK}.big`);
  const svg = page.locator('#graph svg.task-graph[data-virtual="true"]');
  await labelled('the virtual svg', svg.waitFor());
  assert((await svg.getAttribute('data-task-count')) === '1200', 'task count');
  assert((await svg.getAttribute('data-layout-in')) === 'worker', `layout ran on the ${await svg.getAttribute('data-layout-in')} thread`);
  const inDom = await page.locator('#graph .task-node').count();
  assert(inDom > 0 && inDom < 300, `${inDom} task nodes in the DOM`);
  // The last task appears when the frame is scrolled to the bottom.
  const last = big[big.length - 1].name;
  await page.locator('#graph .graph-viewport').evaluate((el) => (el.scrollTop = el.scrollHeight));
  await labelled(`the last task ${last}`, page.locator(`#graph .task-node[data-task="${last}"]`).waitFor());
  // A collapsed group expands from its details (scroll down from the top to the first one).
  const viewport = page.locator('#graph .graph-viewport');
  await viewport.evaluate((el) => (el.scrollTop = 0));
  const group = page.locator('#graph .task-collapsed').first();
  for (let k = 0; k < 60 && (await group.count()) === 0; k++) {
    await viewport.evaluate((el) => (el.scrollTop += el.clientHeight / 2));
    await page.waitForTimeout(50);
  }
  await labelled('a collapsed group', group.waitFor());
  await group.scrollIntoViewIfNeeded();
  const name = await group.getAttribute('data-task');
  await group.click();
  await page.click('#expand-group');
  await labelled(`the expanded group's ${name}_a`, page.locator(`#graph .task-node[data-task="${name}_a"]`).waitFor());
  // The JSON and the YAML are built when opened.
  assert((await page.locator('.source .sl').count()) === 0, 'the YAML was drawn before it was opened');
});

await step('a pack of 120 workflows lists them 50 per page, with a search', async () => {
  const dir = path.join(PACKS_DIR, 'many', 'workflows');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(PACKS_DIR, 'many', 'pack.yaml'), 'ref: many\nlabel: Many workflows\nversion: "1.0.0"\n');
  for (let i = 0; i < 120; i++) {
    const name = `wf_${String(i).padStart(3, '0')}`;
    fs.writeFileSync(path.join(dir, `${name}.yaml`), `label: ${i === 77 ? 'Needle in the haystack' : `Workflow ${i}`}\nversion: "1.0.0"\ntasks:\n  - name: only\n    action: core.noop\n`);
  }
  const status = await page.evaluate(async () => {
    const token = JSON.parse(sessionStorage.getItem('attune.session')).access_token;
    const res = await fetch('/api/v1/packs/register', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ ref: 'many' }),
    });
    return res.status;
  });
  assert(status >= 200 && status < 300, `register answered ${status}`);
  await page.goto(`${BASE}/#/packs/many`);
  await page.locator('#pack-workflows tr[data-ref="many.wf_000"]').waitFor();
  assert((await page.locator('#pack-workflows tbody tr').count()) === 50, 'page 1 has 50 rows');
  await page.locator('#wf-pager', { hasText: 'page 1 of 3' }).waitFor();
  await page.click('#wf-next');
  await page.locator('#pack-workflows tr[data-ref="many.wf_050"]').waitFor();
  assert((await page.locator('#pack-workflows tr[data-ref="many.wf_000"]').count()) === 0, 'page 1 rows left');
  await page.click('#wf-next');
  await page.locator('#pack-workflows tr[data-ref="many.wf_119"]').waitFor();
  assert((await page.locator('#pack-workflows tbody tr').count()) === 20, 'page 3 has 20 rows');
  await page.fill('#wf-search', 'needle');
  await page.locator('#pack-workflows tr[data-ref="many.wf_077"]').waitFor();
  await page.locator('#pack-workflows tbody tr').nth(1).waitFor({ state: 'detached' });
  assert((await page.locator('#wf-pager button').count()) === 0, 'one page of results has no pager');
});

await step('the packs page lists the pack with its sync status', async () => {
  await page.click('#topnav a[href="#/packs"]');
  const row = page.locator(`.packs-table tr[data-ref="${PACK}"]`);
  await row.waitFor();
  const text = await row.textContent();
  assert(/ok|warning/.test(text || ''), `row text '${text}'`);
});

await step('an action-linked workflow\'s page names its graph file and its action file', async () => {
  const dir = path.join(PACKS_DIR, 'linked_pack', 'actions');
  fs.mkdirSync(path.join(dir, 'workflows'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'ship.yaml'), 'ref: linked_pack.ship\nlabel: Ship\nworkflow_file: workflows/ship.workflow.yaml\n');
  fs.writeFileSync(path.join(dir, 'workflows', 'ship.workflow.yaml'), 'version: "1.0.0"\ntasks:\n  - name: go\n    action: core.noop\n');
  await page.goto(`${BASE}/#/packs`);
  const details = page.locator('#new-pack');
  await details.waitFor();
  if (!(await details.evaluate((el) => el.open))) await page.click('#new-pack > summary');
  await page.fill('#new-ref', 'linked_pack');
  await page.fill('#new-label', 'Linked');
  await page.click('#create-pack');
  await page.waitForURL(/#\/packs\/linked_pack$/);
  await page.goto(`${BASE}/#/workflows/linked_pack.ship`);
  await page.locator('[data-testid="action-file"]', { hasText: 'linked_pack/actions/ship.yaml' }).waitFor();
  const meta = await page.locator('dl.meta-grid').innerText();
  assert(/graph file/i.test(meta) && meta.includes('linked_pack/actions/workflows/ship.workflow.yaml'), `details: ${meta}`);
  await page.goto(`${BASE}/#/workflows/${PACK}.deploy`);
  await page.locator('dl.meta-grid').waitFor();
  assert(await page.locator('[data-testid="action-file"]').count() === 0, 'a standalone workflow shows no action file');
});

await step('a rejected token sends the user back to login with a message', async () => {
  await page.evaluate(() => sessionStorage.setItem('attune.session', JSON.stringify({ access_token: 'not-a-token' })));
  await page.goto(`${BASE}/#/packs/${PACK}`);
  await page.waitForURL(/#\/login/);
  await page.locator('.login-form .notice', { hasText: 'sign in again' }).waitFor();
});

await step('no request went to a host other than the appliance', async () => {
  assert(foreign.length === 0, `foreign requests: ${foreign.slice(0, 5).join(', ')}`);
});

await step('no script error in the page', async () => {
  // 409 and 400: the refused uploads of the upload step, on purpose.
  const real = pageErrors.filter((e) => !/status of (401|404|409|400)/.test(e));
  assert(real.length === 0, `page errors: ${real.slice(0, 3).join(' | ')}`);
});

if (SHOTS) {
  // Screenshots for docs/screenshots, from a richer pack (tests/e2e/fixtures/showcase).
  await step('screenshots of the showcase pack', async () => {
    const here = path.dirname(new URL(import.meta.url).pathname);
    fs.cpSync(path.join(here, 'fixtures', 'showcase'), path.join(PACKS_DIR, 'showcase'), { recursive: true });
    await page.goto(`${BASE}/`);
    await page.waitForURL(/#\/login/);
    await page.fill('#password', PASSWORD);
    await page.click('form.login-form button[type=submit]');
    await page.waitForURL(/#\/packs$/);
    await page.click('#new-pack > summary');
    await page.fill('#new-ref', 'showcase');
    await page.fill('#new-label', 'Showcase');
    await page.fill('#new-description', 'Release pipelines');
    await page.fill('#new-version', '1.4.0');
    await page.fill('#new-tags', 'release, demo');
    await page.click('#create-pack');
    await page.waitForURL(/#\/packs\/showcase$/);
    await page.click('#btn-validate');
    await page.locator('.result-validate .diag').first().waitFor();
    await shot('pack-errors.png');
    await page.goto(`${BASE}/#/workflows/showcase.release`);
    await page.locator('svg.task-graph .task-node').first().waitFor();
    await page.locator('svg.task-graph .task-node[data-task="check_health"]').click();
    await shot('workflow-page.png');
    await page.setViewportSize({ width: 1280, height: 1700 });
    await shot('workflow-graph.png', page.locator('#graph'));
    await page.setViewportSize({ width: 1280, height: 900 });
    // a second pack whose workflow only has warnings, created through the API
    fs.cpSync(path.join(here, 'fixtures', 'backups'), path.join(PACKS_DIR, 'backups'), { recursive: true });
    await page.evaluate(async () => {
      const token = JSON.parse(sessionStorage.getItem('attune.session')).access_token;
      await fetch('/api/v1/packs', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
        body: JSON.stringify({ ref: 'backups', label: 'Nightly backups', version: '0.9.2', tags: ['ops'] }),
      });
    });
    await page.goto(`${BASE}/#/packs`);
    await page.locator('.packs-table tr[data-ref="showcase"]').waitFor();
    await page.locator('.packs-table tr[data-ref="backups"]').waitFor();
    await shot('packs.png');
    await page.goto(`${BASE}/#/validate`);
    await page.locator('#v-yaml').waitFor();
    await page.fill('#v-pack', 'showcase');
    await page.fill('#v-name', 'rollout');
    await page.fill('#v-yaml', fs.readFileSync(path.join(here, 'fixtures', 'showcase', 'workflows', 'rollout.yaml'), 'utf8'));
    await page.locator('.validate-diags .diag').first().waitFor();
    await page.locator('#v-yaml').evaluate((el) => el.blur());
    await shot('validate-yaml.png');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${BASE}/#/packs/showcase`);
    await page.click('#btn-validate');
    await page.locator('.result-validate .diag').first().waitFor();
    await shot('pack-phone.png');
    await page.setViewportSize({ width: 1280, height: 900 });
  });
}

await context.close();
fs.rmSync(userDataDir, { recursive: true, force: true });
fs.rmSync(uploadDir, { recursive: true, force: true });
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
