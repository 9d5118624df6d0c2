// A workflow's History tab (its revisions, newest first, with restore
// behind a confirmation) and the diff of two revisions: the semantic
// summary on top, the source diff (side by side on wide screens, unified
// on narrow ones; changed lines highlighted) and the task graph with
// added / changed / renamed tasks marked (removed ones on the old graph).

import { h, add, badge, clear, toast } from '../dom.js';
import { api, enc, ApiError } from '../api.js';
import { timeAgo, fmtTime, plural } from '../format.js';
import { graphPanel } from './workflow.js';

/** The Overview / History tabs of a workflow page. */
export function workflowTabs(ref, current) {
  const tab = (id, label, href) => h('a', {
    class: `tab${current === id ? ' tab-current' : ''}`, href, id: `tab-${id}`,
    'aria-current': current === id ? 'page' : null,
  }, label);
  return h('nav', { class: 'tabs', 'aria-label': 'Workflow sections' },
    tab('overview', 'Overview', `#/workflows/${enc(ref)}`),
    tab('history', 'History', `#/workflows/${enc(ref)}/history`));
}

function head(ref, title, sub) {
  const pack = ref.includes('.') ? ref.slice(0, ref.lastIndexOf('.')) : ref;
  return h('div', { class: 'page-head' },
    h('div', {},
      h('p', { class: 'crumbs' }, h('a', { href: '#/packs' }, 'Packs'), ' / ', h('a', { href: `#/packs/${enc(pack)}` }, pack), ' / ', h('a', { href: `#/workflows/${enc(ref)}` }, ref), ' / '),
      h('h1', {}, title, sub ? h('span', { class: 'h1-sub' }, sub) : null)));
}

function who(r) {
  if (r.trigger === 'baseline') return h('span', { class: 'muted', title: 'the content registered before history began' }, 'baseline');
  return r.by || (r.trigger === 'watch' ? 'watch' : '—');
}

function countsBadges(r) {
  const out = [];
  if (r.error_count) out.push(badge('error', plural(r.error_count, 'error')));
  if (r.warning_count) out.push(badge('warning', plural(r.warning_count, 'warning')));
  if (!out.length) out.push(badge('ok', 'clean'));
  return out;
}

export async function historyView(root, params, ctx) {
  const ref = params.ref;
  ctx.setTitle(`${ref} history`);
  const PER = 25;
  let page = Number(ctx.query.get('page')) || 1;
  const tableWrap = h('div', { class: 'table-wrap' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  const confirmArea = h('div', { id: 'restore-area' });
  add(root, head(ref, 'History'), workflowTabs(ref, 'history'), confirmArea, tableWrap, pager);

  const restore = (r, newest) => {
    const yes = h('button', { type: 'button', class: 'btn btn-primary', id: 'btn-confirm-restore' }, `Restore revision ${r.n}`);
    const no = h('button', { type: 'button', class: 'btn' }, 'Cancel');
    const fileNote = r.source_file
      ? h('p', {}, 'This workflow comes from ', h('code', {}, r.source_file), ': the file is written back with this revision\u2019s text and the pack is synced. If the file changed on disk since the current revision, nothing is written.')
      : h('p', {}, 'The workflow gets this revision\u2019s text as a new revision; it is validated again first.');
    const box = h('div', { class: 'panel confirm', role: 'alertdialog', 'aria-labelledby': 'restore-title' },
      h('h2', { id: 'restore-title' }, badge('warning', 'confirm'), ` Restore revision ${r.n} of ${ref}?`),
      fileNote,
      newest ? h('p', { class: 'muted' }, `The current revision is ${newest}; it stays in the history.`) : null,
      h('p', {}, h('a', { href: `#/workflows/${enc(ref)}/diff?from=${newest || r.n}&to=${r.n}` }, 'See what would change')),
      h('div', { class: 'form-actions' }, yes, no));
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      try {
        const res = await api('POST', `/api/v1/workflows/${enc(ref)}/revisions/${enc(r.n)}/restore`, {});
        toast(res.message || `revision ${r.n} restored`, 'ok');
        clear(confirmArea);
        await load();
      } catch (err) {
        yes.disabled = false;
        if (!(err instanceof ApiError && err.status === 401)) {
          clear(confirmArea).appendChild(h('p', { class: 'notice notice-error', role: 'alert' }, badge('error', 'not restored'), ' ', err.message));
        }
      }
    });
    no.addEventListener('click', () => clear(confirmArea));
    clear(confirmArea).appendChild(box);
    no.focus();
  };

  const load = async () => {
    const env = await api('GET', `/api/v1/workflows/${enc(ref)}/revisions?page=${page}&per_page=${PER}`);
    if (!ctx.alive()) return;
    const revs = Array.isArray(env.data) ? env.data : [];
    const meta = env.meta || { page, total_pages: 1, total: revs.length };
    const newest = page === 1 && revs.length ? revs[0].n : null;
    clear(tableWrap).appendChild(revs.length
      ? h('table', { class: 'data revisions-table' },
        h('thead', {}, h('tr', {}, ['Revision', 'When', 'Who', 'Trigger', 'Diagnostics', 'Run', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, revs.map((r, i) => {
          const prev = revs[i + 1]?.n;
          return h('tr', { dataset: { rev: r.n } },
            h('td', {}, h('a', { href: `#/workflows/${enc(ref)}/diff?${prev ? `from=${prev}&` : ''}to=${r.n}` }, `r${r.n}`), newest === r.n ? badge('info', 'current') : null),
            h('td', {}, h('time', { datetime: r.at, title: fmtTime(r.at) }, timeAgo(r.at))),
            h('td', {}, who(r)),
            h('td', {}, h('code', {}, r.trigger)),
            h('td', {}, countsBadges(r)),
            h('td', {}, r.run_id ? h('a', { href: `#/runs/${enc(r.run_id)}` }, `run ${r.run_id}`) : h('span', { class: 'muted' }, '—')),
            h('td', {}, h('div', { class: 'row-actions' },
              h('a', { class: 'btn btn-small', href: `#/workflows/${enc(ref)}/diff?${prev ? `from=${prev}&` : ''}to=${r.n}` }, 'Diff'),
              newest !== r.n ? h('button', { type: 'button', class: 'btn btn-small', dataset: { restore: r.n }, onClick: () => restore(r, newest) }, 'Restore…') : null)));
        })))
      : h('p', { class: 'empty' }, 'No revisions yet: the next change to this workflow records one.'));
    clear(pager);
    if ((meta.total_pages || 1) > 1) {
      const go = (p) => {
        page = p;
        load();
      };
      pager.append(
        h('button', { type: 'button', class: 'btn btn-small', disabled: page <= 1, onClick: () => go(page - 1) }, '← Newer'),
        h('span', { class: 'muted' }, `page ${page} of ${meta.total_pages} (${plural(meta.total || 0, 'revision')})`),
        h('button', { type: 'button', class: 'btn btn-small', disabled: page >= meta.total_pages, onClick: () => go(page + 1) }, 'Older →'));
    }
  };
  await load();
}

const KIND_TEXT = { added: 'added', removed: 'removed', changed: 'changed', renamed: 'renamed' };

function short(v) {
  if (v === undefined) return '(none)';
  const s = JSON.stringify(v);
  return s.length > 120 ? `${s.slice(0, 117)}…` : s;
}

function fieldItem(f) {
  const text = f.kind === 'added' ? `added ${short(f.after)}`
    : f.kind === 'removed' ? `removed (was ${short(f.before)})`
      : `${short(f.before)} → ${short(f.after)}`;
  return h('li', {}, h('code', {}, f.path || '(value)'), ': ', text);
}

/** The semantic summary: workflow fields, then one entry per task. */
function semanticPanel(sem) {
  const items = [];
  for (const f of sem.workflow || []) items.push(h('li', { class: 'sem-workflow' }, badge('info', 'workflow'), ' ', fieldItem(f).childNodes));
  for (const t of sem.tasks || []) {
    const sub = [];
    for (const f of t.fields || []) sub.push(fieldItem(f));
    for (const tr of t.transitions || []) {
      sub.push(h('li', {}, `transition ${tr.index} ${tr.kind}`,
        (tr.fields || []).length ? h('ul', {}, tr.fields.map(fieldItem)) : null));
    }
    items.push(h('li', { class: `sem-task sem-${t.kind}`, dataset: { task: t.path, kind: t.kind } },
      h('span', { class: `diff-chip chip-${t.kind}` }, KIND_TEXT[t.kind] || t.kind), ' task ',
      t.kind === 'renamed' ? [h('code', {}, t.renamed_from), ' → '] : null,
      h('code', {}, t.path),
      sub.length ? h('ul', {}, sub) : null));
  }
  return h('section', { class: 'panel semantic', id: 'semantic' },
    h('h2', {}, 'What changed'),
    h('p', { class: `sem-summary${sem.changed ? '' : ' sem-none'}`, id: 'semantic-summary' }, sem.summary),
    items.length ? h('ul', { class: 'sem-list' }, items) : null);
}

function unifiedTable(hunks) {
  const rows = [];
  for (const hk of hunks) {
    rows.push(h('tr', { class: 'dl-hunk' }, h('td', { colspan: 4 }, hk.header)));
    for (const l of hk.lines) {
      const sign = l.op === 'insert' ? '+' : l.op === 'delete' ? '-' : ' ';
      rows.push(h('tr', { class: `dl dl-${l.op}` },
        h('td', { class: 'ln' }, l.old ?? ''), h('td', { class: 'ln' }, l.new ?? ''),
        h('td', { class: 'sign', 'aria-hidden': 'true' }, sign),
        h('td', { class: 'src' }, h('span', { class: 'sr-only' }, l.op === 'equal' ? '' : `${l.op === 'insert' ? 'added' : 'removed'}: `), l.text)));
    }
  }
  return h('table', { class: 'diff-table diff-unified', 'aria-label': 'Unified diff' }, h('tbody', {}, rows));
}

/** Side by side: deletions left, insertions right, paired in runs. */
function splitTable(hunks) {
  const rows = [];
  for (const hk of hunks) {
    rows.push(h('tr', { class: 'dl-hunk' }, h('td', { colspan: 4 }, hk.header)));
    let dels = [];
    let ins = [];
    const flush = () => {
      const n = Math.max(dels.length, ins.length);
      for (let i = 0; i < n; i++) {
        const d = dels[i];
        const a = ins[i];
        rows.push(h('tr', { class: 'dl dl-pair' },
          h('td', { class: 'ln' }, d ? d.old : ''), h('td', { class: `src ${d ? 'dl-delete' : 'dl-blank'}` }, d ? d.text : ''),
          h('td', { class: 'ln' }, a ? a.new : ''), h('td', { class: `src ${a ? 'dl-insert' : 'dl-blank'}` }, a ? a.text : '')));
      }
      dels = [];
      ins = [];
    };
    for (const l of hk.lines) {
      if (l.op === 'delete') dels.push(l);
      else if (l.op === 'insert') ins.push(l);
      else {
        flush();
        rows.push(h('tr', { class: 'dl dl-equal' },
          h('td', { class: 'ln' }, l.old), h('td', { class: 'src' }, l.text),
          h('td', { class: 'ln' }, l.new), h('td', { class: 'src' }, l.text)));
      }
    }
    flush();
  }
  const cols = h('colgroup', {}, h('col', { class: 'c-ln' }), h('col', { class: 'c-src' }), h('col', { class: 'c-ln' }), h('col', { class: 'c-src' }));
  return h('table', { class: 'diff-table diff-split', 'aria-label': 'Side-by-side diff' }, cols, h('tbody', {}, rows));
}

/** Marks tasks of `svg` by their `a/b` paths. */
function markTasks(svg, marks) {
  for (const [path, kind] of marks) {
    let el = svg;
    for (const part of path.split('/')) {
      const next = el.querySelector(`g.task-node[data-task="${CSS.escape(part)}"]`);
      if (!next) {
        el = null;
        break;
      }
      el = next;
    }
    if (!el || el === svg) continue;
    el.classList.add('diff-mark', `diff-${kind}`);
    el.dataset.diff = kind;
    el.setAttribute('aria-label', `${el.getAttribute('aria-label') || path} (${kind})`);
  }
}

export async function diffView(root, params, ctx) {
  const ref = params.ref;
  const q = new URLSearchParams();
  if (ctx.query.get('from')) q.set('from', ctx.query.get('from'));
  if (ctx.query.get('to')) q.set('to', ctx.query.get('to'));
  ctx.setTitle(`${ref} diff`);
  const env = await api('GET', `/api/v1/workflows/${enc(ref)}/diff${q.toString() ? `?${q}` : ''}`);
  if (!ctx.alive()) return;
  const d = env.data || {};
  const from = d.from;
  const to = d.to || {};
  const sem = d.semantic || { changed: false, summary: 'no semantic change', tasks: [], workflow: [] };
  const hunks = Array.isArray(d.hunks) ? d.hunks : [];
  const sub = from ? `r${from.n} → r${to.n}` : `r${to.n} (first revision)`;

  const revLine = (r, label) => r
    ? h('span', {}, `${label} `, h('strong', {}, `r${r.n}`), ' · ', h('time', { datetime: r.at, title: fmtTime(r.at) }, timeAgo(r.at)), ' · ', who(r), ' · ', h('code', {}, r.trigger),
      r.run_id ? [' · ', h('a', { href: `#/runs/${enc(r.run_id)}` }, `run ${r.run_id}`)] : null)
    : h('span', { class: 'muted' }, `${label} nothing`);

  const textPanel = h('section', { class: 'panel', id: 'text-diff' },
    h('h2', {}, 'Source ', h('span', { class: 'muted' }, `+${d.added_lines || 0} −${d.removed_lines || 0}`)),
    hunks.length
      ? h('div', { class: 'diff-wrap' }, unifiedTable(hunks), splitTable(hunks))
      : h('p', { class: 'muted' }, 'The two sources are identical.'));

  const marks = (sem.tasks || []).filter((t) => t.kind !== 'removed').map((t) => [t.path, t.kind]);
  const removed = (sem.tasks || []).filter((t) => t.kind === 'removed').map((t) => [t.path, t.kind]);
  // The graph is laid out off the main thread: marks go on once it is drawn.
  const graphNew = graphPanel(await definitionOf(ref, to.n), { onDrawn: (svg) => markTasks(svg, marks) });
  if (!ctx.alive()) return;
  let graphOld = null;
  if (removed.length && from) {
    graphOld = graphPanel(await definitionOf(ref, from.n), { onDrawn: (svg) => markTasks(svg, removed) });
    if (!ctx.alive()) return;
  }
  const legend = h('ul', { class: 'legend diff-legend', 'aria-label': 'Change marks' },
    ['added', 'changed', 'renamed', 'removed'].map((k) => h('li', {}, h('span', { class: `diff-chip chip-${k}` }, k))));

  add(root,
    head(ref, 'Diff', sub),
    workflowTabs(ref, 'history'),
    h('p', { class: 'meta-line diff-revs' }, revLine(from, 'from'), revLine(to, 'to')),
    semanticPanel(sem),
    textPanel,
    h('section', { class: 'panel', id: 'diff-graph' }, h('h2', {}, `Task graph at r${to.n}`), legend, graphNew),
    graphOld ? h('section', { class: 'panel', id: 'diff-graph-old' }, h('h2', {}, `Task graph at r${from.n} (removed tasks marked)`), graphOld) : null);
}

async function definitionOf(ref, n) {
  const env = await api('GET', `/api/v1/workflows/${enc(ref)}/revisions/${enc(n)}`);
  return env.data?.definition || {};
}
