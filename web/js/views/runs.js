// Run history of a pack (sync and validation runs, newest first) and one
// run with its full results and diagnostics.

import { h, add, badge, clear } from '../dom.js';
import { api, enc } from '../api.js';
import { timeAgo, fmtTime, fmtDuration, plural } from '../format.js';
import { renderResult } from '../results.js';
import { onEvent, freshness } from '../live.js';

function runStatus(run) {
  const c = run.counts || {};
  if ((c.errors || 0) > 0 || (c.failed || 0) > 0) return badge('error', plural(c.errors || c.failed, 'error'));
  if ((c.warnings || 0) > 0) return badge('warning', plural(c.warnings, 'warning'));
  return badge('ok', 'ok');
}

function countsText(run) {
  const c = run.counts || {};
  if (run.kind === 'validate') return `${plural(c.loaded || 0, 'file')}`;
  const parts = [`${c.created || 0} created`, `${c.updated || 0} updated`, `${c.unchanged || 0} unchanged`, `${c.failed || 0} failed`];
  if (c.missing) parts.push(`${c.missing} missing`);
  if (c.pruned) parts.push(`${c.pruned} pruned`);
  return parts.join(' · ');
}

export async function runsView(root, params, ctx) {
  const ref = params.ref;
  ctx.setTitle(`${ref} runs`);
  const PER = 25;
  let page = Number(ctx.query.get('page')) || 1;
  const tableWrap = h('div', { class: 'table-wrap' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  add(root, 
    h('div', { class: 'page-head' },
      h('div', {},
        h('p', { class: 'crumbs' }, h('a', { href: '#/packs' }, 'Packs'), ' / ', h('a', { href: `#/packs/${enc(ref)}` }, ref), ' / '),
        h('h1', {}, 'Run history')),
      h('div', { class: 'page-actions' }, h('a', { class: 'btn', href: `#/packs/${enc(ref)}` }, 'Back to pack'))),
    tableWrap, pager);

  const load = async () => {
    const env = await api('GET', `/api/v1/runs?pack_ref=${enc(ref)}&page=${page}&per_page=${PER}`);
    if (!ctx.alive()) return;
    const runs = Array.isArray(env.data) ? env.data : [];
    const meta = env.meta || { page, total_pages: 1, total: runs.length };
    clear(tableWrap).appendChild(runs.length
      ? h('table', { class: 'data runs-table' },
        h('thead', {}, h('tr', {}, ['When', 'Kind', 'Result', 'Counts', 'Options', 'User', 'Duration'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, runs.map((r) => h('tr', { dataset: { run: r.id } },
          h('td', {}, h('a', { href: `#/runs/${enc(r.id)}` }, h('time', { datetime: r.started, title: fmtTime(r.started) }, fmtTime(r.started))), h('span', { class: 'muted ago' }, timeAgo(r.started))),
          h('td', {}, r.kind === 'validate' ? 'validation' : 'sync'),
          h('td', {}, runStatus(r)),
          h('td', { class: 'muted' }, countsText(r)),
          h('td', {}, r.trigger === 'upload' ? badge('info', 'upload') : null, r.dry_run ? badge('info', 'dry run') : null, r.prune ? badge('info', 'prune') : null),
          h('td', {}, r.user || (r.trigger === 'watch' ? 'watch (file change)' : '')),
          h('td', { class: 'num' }, fmtDuration(r.duration_ms))))))
      : h('p', { class: 'empty' }, 'No runs recorded yet. Press Validate or Sync on the pack page.'));
    clear(pager);
    if ((meta.total_pages || 1) > 1) {
      const go = (p) => {
        page = p;
        load();
      };
      pager.append(
        h('button', { type: 'button', class: 'btn btn-small', disabled: page <= 1, onClick: () => go(page - 1) }, '← Newer'),
        h('span', { class: 'muted' }, `page ${page} of ${meta.total_pages} (${plural(meta.total || 0, 'run')})`),
        h('button', { type: 'button', class: 'btn btn-small', disabled: page >= meta.total_pages, onClick: () => go(page + 1) }, 'Older →'));
    }
  };
  // Live: a new run of this pack shows up at the top of page 1.
  const stamp = h('span', { class: 'live-stamp', id: 'live-updated', hidden: true, role: 'status' });
  root.querySelector('.page-actions')?.prepend(stamp);
  const live = freshness(stamp);
  const offLive = onEvent(async (e) => {
    if (!ctx.alive() || page !== 1) return;
    if ((e.kind === 'run_finished' && e.pack_ref === ref) || e.kind === 'reconnected') {
      try {
        await load();
        live.mark();
      } catch {
        /* the next event retries */
      }
    }
  });
  ctx.onCleanup(() => {
    offLive();
    live.stop();
  });
  await load();
}

export async function runView(root, params, ctx) {
  const id = params.id;
  ctx.setTitle(`run ${id}`);
  const env = await api('GET', `/api/v1/runs/${enc(id)}`);
  if (!ctx.alive()) return;
  const run = env.data || {};
  add(root, 
    h('div', { class: 'page-head' },
      h('div', {},
        h('p', { class: 'crumbs' }, h('a', { href: '#/packs' }, 'Packs'), ' / ', h('a', { href: `#/packs/${enc(run.pack_ref)}` }, run.pack_ref), ' / ', h('a', { href: `#/packs/${enc(run.pack_ref)}/runs` }, 'runs'), ' / '),
        h('h1', {}, `${run.kind === 'validate' ? 'Validation' : 'Sync'} run`, h('span', { class: 'h1-sub' }, fmtTime(run.started))),
        h('p', { class: 'meta-line' },
          h('span', {}, run.trigger === 'watch' ? 'by watch mode (file change on disk)' : `by ${run.user || 'unknown'}`),
          h('span', {}, fmtDuration(run.duration_ms)),
          run.trigger === 'upload' ? badge('info', 'upload') : null,
          run.dry_run ? badge('info', 'dry run') : null,
          run.prune ? badge('info', 'prune') : null,
          h('span', { class: 'muted' }, countsText(run)),
          run.counts?.suppressed ? h('span', { class: 'muted' }, `${run.counts.suppressed} suppressed`) : null))),
    renderResult(run, run.kind, { title: 'Results', hideRunLink: true }));
  // A run never changes; a newer one of the same pack is announced here.
  const newer = h('p', { class: 'notice live-newer', id: 'live-newer', hidden: true, role: 'status' });
  root.querySelector('.page-head')?.after(newer);
  const offLive = onEvent((e) => {
    if (!ctx.alive() || e.kind !== 'run_finished' || e.pack_ref !== run.pack_ref || !e.run_id || String(e.run_id) === String(id)) return;
    newer.hidden = false;
    clear(newer).append(`A newer ${e.run_kind} run of ${run.pack_ref} finished just now${e.trigger === 'watch' ? ' (file change on disk)' : ''}: `,
      h('a', { href: `#/runs/${enc(e.run_id)}` }, `open run ${e.run_id}`));
  });
  ctx.onCleanup(offLive);
}
