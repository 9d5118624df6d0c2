// Pack page: metadata, Validate and Sync (dry run, prune with a confirmed
// plan), the results grouped by workflow, and the registered workflows.

import { h, add, badge, clear, toast, debounce } from '../dom.js';
import { api, enc, ApiError } from '../api.js';
import { timeAgo, fmtTime, summaryStatus, plural, parseTime } from '../format.js';
import { renderResult } from '../results.js';
import { countTasks } from '../graph.js';
import { onEvent, freshness } from '../live.js';
import { downloadArchive } from '../delivery.js';

function summaryLine(title, summary, kind) {
  const st = summaryStatus(summary);
  return h('div', { class: 'summary-line', dataset: { kind } },
    h('span', { class: 'summary-name' }, title),
    badge(st.kind, st.word, st.detail),
    summary ? h('time', { datetime: summary.at, title: fmtTime(summary.at) }, timeAgo(summary.at)) : null,
    summary ? h('span', { class: 'muted' }, st.detail) : null,
    summary && summary.run_id ? h('a', { href: `#/runs/${enc(summary.run_id)}` }, 'details') : null);
}

/** Rows of the registered-workflows table per page. */
const WORKFLOWS_PER_PAGE = 50;

function workflowsTable(list) {
  if (!list.length) return h('p', { class: 'empty' }, 'No workflows registered for this pack yet.');
  return h('div', { class: 'table-scroll' }, h('table', { class: 'data workflows-table' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Workflow'), h('th', { scope: 'col' }, 'Version'), h('th', { scope: 'col' }, 'State'),
      h('th', { scope: 'col' }, 'Tasks'), h('th', { scope: 'col' }, 'Updated'))),
    h('tbody', {}, list.map((w) => h('tr', { dataset: { ref: w.ref } },
      h('td', {}, h('a', { href: `#/workflows/${enc(w.ref)}`, class: 'ref' }, w.ref), w.label && h('span', { class: 'label' }, w.label)),
      h('td', {}, h('code', {}, w.version || '')),
      h('td', {}, h('span', { class: 'state-cell' },
        w.enabled === false ? badge('none', 'disabled') : badge('ok', 'enabled'),
        w.stale ? badge('warning', 'stale', 'the file on disk has errors; this is the last good version') : null,
        (w.warnings || []).length ? badge('warning', plural(w.warnings.length, 'warning')) : null)),
      h('td', { class: 'num' }, String(countTasks(w.definition?.tasks || []))),
      h('td', {}, h('time', { datetime: w.updated, title: fmtTime(w.updated) }, timeAgo(w.updated))))))));
}

export async function packView(root, params, ctx) {
  const ref = params.ref;
  ctx.setTitle(ref);
  const head = h('div', { class: 'page-head' });
  const summaries = h('div', { class: 'summaries' });
  const resultArea = h('section', { class: 'results', id: 'results', 'aria-live': 'polite', 'aria-label': 'Results' });
  const workflowsArea = h('section', { class: 'panel', id: 'pack-workflows' });

  const dryRun = h('input', { type: 'checkbox', id: 'opt-dry-run' });
  const prune = h('input', { type: 'checkbox', id: 'opt-prune' });
  const validateBtn = h('button', { type: 'button', class: 'btn', id: 'btn-validate' }, 'Validate');
  const syncBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'btn-sync' }, 'Sync');
  const busy = h('span', { class: 'busy muted', role: 'status' });
  const stamp = h('span', { class: 'live-stamp', id: 'live-updated', hidden: true, role: 'status' });
  const actions = h('div', { class: 'panel actions-bar' },
    validateBtn,
    syncBtn,
    h('label', { class: 'check' }, dryRun, ' Dry run'),
    h('label', { class: 'check' }, prune, ' Prune missing workflows'),
    busy,
    stamp);

  add(root, head, summaries, actions, resultArea, workflowsArea);

  let pack = null;
  const loadPack = async () => {
    const env = await api('GET', `/api/v1/packs/${enc(ref)}`);
    pack = env.data;
    if (!ctx.alive()) return;
    add(clear(head), 
      h('div', {},
        h('p', { class: 'crumbs' }, h('a', { href: '#/packs' }, 'Packs'), ' / '),
        h('h1', {}, pack.ref, pack.label && pack.label !== pack.ref ? h('span', { class: 'h1-sub' }, pack.label) : null),
        h('p', { class: 'meta-line' },
          h('span', {}, 'version ', h('code', {}, pack.version || '')),
          typeof pack.workflow_count === 'number' ? h('span', {}, plural(pack.workflow_count, 'workflow')) : null,
          pack.is_standard ? badge('info', 'standard') : null,
          (pack.tags || []).map((t) => h('span', { class: 'tag-chip' }, t)),
          h('span', { class: 'muted' }, `updated ${timeAgo(pack.updated)}`)),
        pack.description && h('p', { class: 'description' }, pack.description)),
      h('div', { class: 'page-actions' },
        h('a', { href: `#/packs/${enc(ref)}/runs`, class: 'btn', id: 'link-runs' }, 'Run history'),
        h('button', { type: 'button', class: 'btn', id: 'btn-download', title: 'the pack folder as a .tar.gz (upload it to another appliance)', onClick: async (ev) => {
          const btn = ev.currentTarget;
          btn.disabled = true;
          try {
            await downloadArchive(ref);
          } catch (err) {
            if (!(err instanceof ApiError && err.status === 401)) toast(err.message, 'error');
          } finally {
            btn.disabled = false;
          }
        } }, 'Download'),
        h('button', { type: 'button', class: 'btn btn-danger-quiet', onClick: confirmDelete }, 'Delete…')));
    add(clear(summaries), 
      summaryLine('Last sync', pack.last_sync, 'sync'),
      summaryLine('Last validation', pack.last_validation, 'validate'));
  };
  // Registered workflows, one page at a time (a pack may hold 100,000):
  // GET /api/v1/packs/{ref}/workflows?page=&per_page=, or with a search
  // GET /api/v1/workflows?pack_ref=&search=; the server's order (by name).
  let wfPage = 1;
  const wfTitle = h('h2', {}, 'Registered workflows');
  const wfSearch = h('input', { type: 'search', id: 'wf-search', placeholder: 'Search label or description', 'aria-label': 'Search the workflows of this pack', autocomplete: 'off', spellcheck: 'false' });
  const wfTools = h('div', { class: 'list-tools', hidden: true }, wfSearch);
  const wfTable = h('div', { class: 'wf-table' });
  const wfPager = h('nav', { class: 'pager', 'aria-label': 'Workflow pages', id: 'wf-pager' });
  add(workflowsArea, wfTitle, wfTools, wfTable, wfPager);
  let wfSeq = 0;
  const loadWorkflows = async () => {
    const my = ++wfSeq;
    const q = wfSearch.value.trim();
    const url = q
      ? `/api/v1/workflows?pack_ref=${enc(ref)}&search=${enc(q)}&page=${wfPage}&per_page=${WORKFLOWS_PER_PAGE}`
      : `/api/v1/packs/${enc(ref)}/workflows?page=${wfPage}&per_page=${WORKFLOWS_PER_PAGE}`;
    let env;
    try {
      env = await api('GET', url);
    } catch (err) {
      if (!ctx.alive() || my !== wfSeq || (err instanceof ApiError && err.status === 401)) return;
      add(clear(wfTable), h('p', { class: 'notice notice-error' }, badge('error', 'error'), ` cannot list the workflows: ${err.message}`));
      return;
    }
    if (!ctx.alive() || my !== wfSeq) return;
    const list = Array.isArray(env.data) ? env.data : [];
    const meta = env.meta || { page: wfPage, total_pages: 1, total: list.length };
    const pages = Math.max(1, meta.total_pages || 1);
    if (!list.length && wfPage > pages) {
      // The last page emptied (a prune): show the new last one.
      wfPage = pages;
      await loadWorkflows();
      return;
    }
    const total = meta.total ?? list.length;
    add(clear(wfTitle), 'Registered workflows ', h('span', { class: 'muted' }, q ? `(${total} matching “${q}”)` : `(${total})`));
    wfTools.hidden = !q && total <= WORKFLOWS_PER_PAGE;
    clear(wfTable).appendChild(list.length || !q ? workflowsTable(list) : h('p', { class: 'empty' }, 'No workflow of this pack matches the search.'));
    clear(wfPager);
    if (pages > 1) {
      const go = (p) => {
        wfPage = p;
        loadWorkflows().catch(fail);
      };
      wfPager.append(
        h('button', { type: 'button', class: 'btn btn-small', id: 'wf-prev', disabled: wfPage <= 1, onClick: () => go(wfPage - 1) }, '← Previous'),
        h('span', { class: 'muted' }, `page ${wfPage} of ${pages}, ${WORKFLOWS_PER_PAGE} per page`),
        h('button', { type: 'button', class: 'btn btn-small', id: 'wf-next', disabled: wfPage >= pages, onClick: () => go(wfPage + 1) }, 'Next →'));
    }
  };
  const searchSoon = debounce(() => {
    wfPage = 1;
    loadWorkflows().catch(() => {});
  }, 250);
  wfSearch.addEventListener('input', searchSoon);
  ctx.onCleanup(() => searchSoon.cancel());

  const setBusy = (text) => {
    busy.textContent = text || '';
    validateBtn.disabled = syncBtn.disabled = !!text;
  };
  // Who put the result on screen: 'user' (a button's answer, a dialog),
  // 'latest' (the last recorded run, at open or from a live event). Live
  // updates replace only the latter, never a dialog or an answer.
  let owner = 'latest';
  const show = (node, who = 'user') => {
    owner = who;
    clear(resultArea).appendChild(node);
  };
  const fail = (err) => {
    if (err instanceof ApiError && err.status === 401) return;
    show(h('div', { class: 'notice notice-error', role: 'alert' }, badge('error', 'error'), ' ', err.message));
  };
  const refresh = () => Promise.all([loadPack(), loadWorkflows()]).catch(fail);

  async function runValidate() {
    setBusy('Validating…');
    try {
      const env = await api('POST', `/api/v1/packs/${enc(ref)}/workflows/validate`);
      if (!ctx.alive()) return;
      show(renderResult(env.data || {}, 'validate', { title: env.message || 'Validation' }));
      await refresh();
    } catch (err) {
      fail(err);
    } finally {
      setBusy('');
    }
  }

  async function doSync(flags) {
    const q = [];
    if (flags.dry) q.push('dry_run=true');
    if (flags.prune) q.push('prune=true');
    const url = `/api/v1/packs/${enc(ref)}/workflows/sync${q.length ? '?' + q.join('&') : ''}`;
    return api('POST', url);
  }

  async function runSync() {
    const flags = { dry: dryRun.checked, prune: prune.checked };
    setBusy(flags.dry ? 'Planning…' : 'Syncing…');
    try {
      if (flags.prune && !flags.dry) {
        // Never remove anything without showing the plan first.
        const plan = (await doSync({ dry: true, prune: true })).data || {};
        if (!ctx.alive()) return;
        const doomed = (plan.pruned && plan.pruned.length ? plan.pruned : plan.missing) || [];
        if (doomed.length) {
          setBusy('');
          showPrunePlan(plan, doomed);
          return;
        }
      }
      const env = await doSync(flags);
      if (!ctx.alive()) return;
      show(renderResult(env.data || {}, 'sync', { title: flags.dry ? 'Sync plan (dry run)' : env.message || 'Sync' }));
      if (!flags.dry) toast(env.message || 'synced', 'ok');
      await refresh();
    } catch (err) {
      fail(err);
    } finally {
      if (ctx.alive()) setBusy('');
    }
  }

  function showPrunePlan(plan, doomed) {
    const confirmBtn = h('button', { type: 'button', class: 'btn btn-danger', id: 'btn-confirm-prune' }, `Remove ${plural(doomed.length, 'workflow')} and sync`);
    const cancelBtn = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    const box = h('div', { class: 'panel confirm', role: 'alertdialog', 'aria-labelledby': 'prune-title', 'aria-describedby': 'prune-desc' },
      h('h2', { id: 'prune-title' }, badge('warning', 'confirm'), ' Prune will remove registered workflows'),
      h('p', { id: 'prune-desc' }, `Their files are gone from the pack folder. This sync will delete ${plural(doomed.length, 'workflow')} from the database:`),
      h('ul', { class: 'doomed' }, doomed.map((r) => h('li', {}, h('code', {}, r)))),
      h('div', { class: 'form-actions' }, confirmBtn, cancelBtn),
      h('h3', {}, 'Full plan (dry run)'),
      renderResult(plan, 'sync', { title: 'Sync plan (dry run)' }));
    confirmBtn.addEventListener('click', async () => {
      setBusy('Syncing…');
      try {
        const env = await doSync({ dry: false, prune: true });
        if (!ctx.alive()) return;
        show(renderResult(env.data || {}, 'sync', { title: env.message || 'Sync' }));
        toast(env.message || 'synced', 'ok');
        await refresh();
      } catch (err) {
        fail(err);
      } finally {
        if (ctx.alive()) setBusy('');
      }
    });
    cancelBtn.addEventListener('click', () => {
      clear(resultArea).appendChild(h('p', { class: 'muted' }, 'Sync cancelled: nothing was changed.'));
      syncBtn.focus();
    });
    show(box);
    cancelBtn.focus();
  }

  async function confirmDelete() {
    const box = h('div', { class: 'panel confirm', role: 'alertdialog', 'aria-labelledby': 'delete-title' },
      h('h2', { id: 'delete-title' }, badge('warning', 'confirm'), ` Delete pack ${ref}?`),
      h('p', {}, 'This removes the pack and all of its registered workflows from the database. Files on disk are not touched.'));
    const yes = h('button', { type: 'button', class: 'btn btn-danger' }, 'Delete pack');
    const no = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    yes.addEventListener('click', async () => {
      try {
        await api('DELETE', `/api/v1/packs/${enc(ref)}`);
        toast(`pack ${ref} deleted`, 'ok');
        location.hash = '#/packs';
      } catch (err) {
        fail(err);
      }
    });
    no.addEventListener('click', () => clear(resultArea));
    box.appendChild(h('div', { class: 'form-actions' }, yes, no));
    show(box);
    no.focus();
  }

  validateBtn.addEventListener('click', runValidate);
  syncBtn.addEventListener('click', runSync);
  prune.addEventListener('change', () => {
    syncBtn.textContent = prune.checked && !dryRun.checked ? 'Sync and prune…' : 'Sync';
  });
  dryRun.addEventListener('change', () => {
    syncBtn.textContent = dryRun.checked ? 'Plan sync (dry run)' : prune.checked ? 'Sync and prune…' : 'Sync';
  });

  // Live: a run of this pack finished (a watch sync after an edit on
  // disk, another user's sync) or the pack changed: reload in place.
  const live = freshness(stamp);
  const showRun = async (runId) => {
    const env = await api('GET', `/api/v1/runs/${enc(runId)}`);
    if (!ctx.alive()) return;
    const run = env.data || {};
    const by = run.trigger === 'watch' ? ' (file change on disk)' : run.user ? ` (by ${run.user})` : '';
    if (owner !== 'latest' && resultArea.firstChild) return;
    show(renderResult(run, run.kind, { title: `Latest ${run.kind === 'validate' ? 'validation' : 'sync'}${by}` }), 'latest');
  };
  const offLive = onEvent(async (e) => {
    if (!ctx.alive()) return;
    if (e.kind === 'pack_deleted' && e.pack_ref === ref) {
      show(h('div', { class: 'notice notice-error', role: 'alert' }, badge('warning', 'deleted'), ' This pack was deleted. ', h('a', { href: '#/packs' }, 'Back to packs')));
      return;
    }
    const mine = e.pack_ref === ref && (e.kind === 'run_finished' || e.kind === 'pack_updated');
    if (!mine && e.kind !== 'reconnected') return;
    try {
      await refresh();
      if (e.kind === 'run_finished' && e.run_id && !busy.textContent) await showRun(e.run_id);
      if (ctx.alive()) live.mark();
    } catch (err) {
      fail(err);
    }
  });
  ctx.onCleanup(() => {
    offLive();
    live.stop();
  });

  await loadPack();
  if (!ctx.alive()) return;
  // Show the most recent recorded result right away.
  const latest = [pack.last_sync, pack.last_validation].filter((x) => x && x.run_id)
    .sort((a, b) => (parseTime(b.at)?.getTime() || 0) - (parseTime(a.at)?.getTime() || 0))[0];
  const tasks = [loadWorkflows()];
  if (latest) {
    tasks.push(api('GET', `/api/v1/runs/${enc(latest.run_id)}`).then((env) => {
      if (!ctx.alive() || resultArea.firstChild) return;
      const run = env.data || {};
      show(renderResult(run, run.kind, { title: `Latest ${run.kind === 'validate' ? 'validation' : 'sync'}` }), 'latest');
    }).catch(() => {}));
  }
  await Promise.all(tasks);
}
