// Packs page: every pack with its label, version, workflow count and the
// status of its latest sync and validation; sortable, filterable; create form.

import { h, add, badge, clear, toast } from '../dom.js';
import { api, listAll, enc, ApiError } from '../api.js';
import { timeAgo, fmtTime, summaryStatus, statusRank, plural } from '../format.js';
import { onEvent, freshness } from '../live.js';
import { availablePanel, uploadPanel } from '../delivery.js';

const REF_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Rows of the packs table per page (the list is sorted and filtered in the browser). */
const PACKS_PER_PAGE = 100;

function statusCell(summary) {
  const st = summaryStatus(summary);
  if (!summary) return h('td', { class: 'status-cell' }, badge('none', 'never'));
  return h('td', { class: 'status-cell' },
    badge(st.kind, st.word, st.detail),
    h('time', { class: 'ago', datetime: summary.at, title: fmtTime(summary.at) }, timeAgo(summary.at)));
}

const COLUMNS = [
  { key: 'ref', label: 'Pack', get: (p) => p.ref.toLowerCase() },
  { key: 'version', label: 'Version', get: (p) => String(p.version || '') },
  { key: 'workflows', label: 'Workflows', get: (p) => p.workflow_count ?? 0, num: true },
  { key: 'sync', label: 'Last sync', get: (p) => statusKey(p.last_sync) },
  { key: 'validation', label: 'Last validation', get: (p) => statusKey(p.last_validation) },
  { key: 'updated', label: 'Updated', get: (p) => p.updated || '' },
];

function statusKey(summary) {
  const st = summaryStatus(summary);
  return `${statusRank(st.kind)}-${summary ? String(9e15 - Date.parse(summary.at || 0)).padStart(17, '0') : ''}`;
}

function createForm(onCreated) {
  const fields = {
    ref: h('input', { id: 'new-ref', name: 'ref', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]{0,127}', placeholder: 'my_pack', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off' }),
    label: h('input', { id: 'new-label', name: 'label', required: true, placeholder: 'My Pack' }),
    version: h('input', { id: 'new-version', name: 'version', required: true, value: '1.0.0' }),
    description: h('input', { id: 'new-description', name: 'description', placeholder: 'optional' }),
    tags: h('input', { id: 'new-tags', name: 'tags', placeholder: 'comma separated, optional' }),
  };
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'create-pack' }, 'Create pack');
  const row = (id, label, input, help) => h('div', { class: 'field' }, h('label', { for: id }, label), input, help && h('span', { class: 'help' }, help));
  const form = h('form', { class: 'create-form', id: 'create-form' },
    row('new-ref', 'Ref', fields.ref, 'the folder name under the packs directory'),
    row('new-label', 'Label', fields.label),
    row('new-version', 'Version', fields.version),
    row('new-description', 'Description', fields.description),
    row('new-tags', 'Tags', fields.tags),
    h('div', { class: 'form-actions' }, submit, error));
  fields.ref.addEventListener('input', () => {
    if (!fields.label.dataset.touched) fields.label.value = fields.ref.value.replace(/[_.-]+/g, ' ').replace(/\b\w/g, (c) => c.toUpperCase());
  });
  fields.label.addEventListener('input', () => (fields.label.dataset.touched = '1'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    const ref = fields.ref.value.trim();
    if (!REF_RE.test(ref) || ref.includes('..')) {
      error.textContent = 'the ref must start with a letter or digit and use only letters, digits, _ . -';
      fields.ref.focus();
      return;
    }
    const body = { ref, label: fields.label.value.trim() || ref, version: fields.version.value.trim() || '1.0.0' };
    if (fields.description.value.trim()) body.description = fields.description.value.trim();
    const tags = fields.tags.value.split(',').map((t) => t.trim()).filter(Boolean);
    if (tags.length) body.tags = tags;
    submit.disabled = true;
    submit.textContent = 'Creating…';
    try {
      const env = await api('POST', '/api/v1/packs', body);
      toast(env.message || 'pack created', 'ok');
      onCreated(env.data || body);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      error.textContent = err.message;
      submit.disabled = false;
      submit.textContent = 'Create pack';
    }
  });
  return form;
}

export async function packsView(root, _params, ctx) {
  ctx.setTitle('Packs');
  const state = { sort: 'ref', dir: 1, filter: ctx.query.get('q') || '', packs: [], page: 1 };
  const filter = h('input', { type: 'search', id: 'pack-filter', placeholder: 'Filter by ref, label or tag ( / )', value: state.filter, 'aria-label': 'Filter packs' });
  const countNote = h('span', { class: 'muted', id: 'pack-count' });
  const tableWrap = h('div', { class: 'table-wrap' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pack pages', id: 'packs-pager' });
  const newPack = h('details', { class: 'panel new-pack', id: 'new-pack' },
    h('summary', {}, h('span', { class: 'summary-title' }, 'New pack')),
    createForm((pack) => {
      location.hash = `#/packs/${enc(pack.ref)}`;
    }));
  const reloadPacks = async () => {
    state.packs = await listAll('/api/v1/packs');
    if (ctx.alive()) draw();
  };
  const available = availablePanel({ onRegistered: () => reloadPacks().catch(() => {}) });
  const upload = uploadPanel({ onUploaded: () => Promise.all([reloadPacks(), available.load()]).catch(() => {}) });
  add(root, 
    h('div', { class: 'page-head' },
      h('h1', {}, 'Packs'),
      h('div', { class: 'page-actions' }, filter, countNote)),
    available.panel,
    upload,
    newPack,
    tableWrap,
    pager);

  const draw = () => {
    const q = state.filter.trim().toLowerCase();
    const rows = state.packs.filter((p) => !q || [p.ref, p.label, p.description, ...(p.tags || [])].some((v) => String(v || '').toLowerCase().includes(q)));
    const col = COLUMNS.find((c) => c.key === state.sort) || COLUMNS[0];
    rows.sort((a, b) => {
      const x = col.get(a);
      const y = col.get(b);
      return (x < y ? -1 : x > y ? 1 : 0) * state.dir || a.ref.localeCompare(b.ref);
    });
    countNote.textContent = q ? `${rows.length} of ${plural(state.packs.length, 'pack')}` : plural(state.packs.length, 'pack');
    if (state.packs.total > state.packs.length) {
      countNote.textContent += ` loaded, the first ${state.packs.length} of ${state.packs.total} by ref: sort and filter cover these only (the API lists them all: GET /api/v1/packs?page=)`;
    }
    // One page of rows in the DOM, however many packs there are.
    const pages = Math.max(1, Math.ceil(rows.length / PACKS_PER_PAGE));
    state.page = Math.min(Math.max(1, state.page), pages);
    const shown = rows.slice((state.page - 1) * PACKS_PER_PAGE, state.page * PACKS_PER_PAGE);
    clear(pager);
    if (pages > 1) {
      const go = (p) => {
        state.page = p;
        draw();
      };
      pager.append(
        h('button', { type: 'button', class: 'btn btn-small', id: 'packs-prev', disabled: state.page <= 1, onClick: () => go(state.page - 1) }, '← Previous'),
        h('span', { class: 'muted' }, `page ${state.page} of ${pages}, ${PACKS_PER_PAGE} per page`),
        h('button', { type: 'button', class: 'btn btn-small', id: 'packs-next', disabled: state.page >= pages, onClick: () => go(state.page + 1) }, 'Next →'));
    }
    const head = h('tr', {}, COLUMNS.map((c) => {
      const active = c.key === state.sort;
      return h('th', { scope: 'col', class: c.num ? 'num' : '', 'aria-sort': active ? (state.dir > 0 ? 'ascending' : 'descending') : 'none' },
        h('button', { type: 'button', class: 'sort', dataset: { sort: c.key }, onClick: () => {
          if (state.sort === c.key) state.dir = -state.dir;
          else {
            state.sort = c.key;
            state.dir = 1;
          }
          state.page = 1;
          draw();
          tableWrap.querySelector(`button[data-sort="${c.key}"]`)?.focus();
        } }, c.label, h('span', { class: 'sort-ind', 'aria-hidden': 'true' }, active ? (state.dir > 0 ? ' ▲' : ' ▼') : '')));
    }));
    const body = shown.map((p) => h('tr', { dataset: { ref: p.ref } },
      h('td', {},
        h('a', { href: `#/packs/${enc(p.ref)}`, class: 'ref' }, p.ref),
        p.label && p.label !== p.ref && h('span', { class: 'label' }, p.label),
        (p.tags || []).length ? h('span', { class: 'tags' }, p.tags.map((t) => h('span', { class: 'tag-chip' }, t))) : null),
      h('td', {}, h('code', {}, p.version || '')),
      h('td', { class: 'num' }, p.workflow_count === undefined || p.workflow_count === null ? '—' : String(p.workflow_count)),
      statusCell(p.last_sync),
      statusCell(p.last_validation),
      h('td', {}, h('time', { datetime: p.updated, title: fmtTime(p.updated) }, timeAgo(p.updated)))));
    clear(tableWrap).appendChild(rows.length
      ? h('table', { class: 'data packs-table' }, h('caption', { class: 'sr-only' }, 'Packs, sortable by column'), h('thead', {}, head), h('tbody', {}, body))
      : h('p', { class: 'empty' }, state.packs.length ? 'No pack matches the filter.' : 'No packs yet. Register a folder listed under “On disk, not registered”, upload a pack archive, or create one with “New pack”: its workflows are loaded from the folder of the same name under the packs directory.'));
  };
  // "/" focuses the filter, as in many list views.
  const onKey = (ev) => {
    if (ev.key === '/' && !/^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName || '')) {
      ev.preventDefault();
      filter.focus();
    }
  };
  document.addEventListener('keydown', onKey);
  ctx.onCleanup(() => document.removeEventListener('keydown', onKey));
  filter.addEventListener('input', () => {
    state.filter = filter.value;
    state.page = 1;
    draw();
  });
  tableWrap.appendChild(h('p', { class: 'loading' }, 'Loading packs…'));
  // Live: any run or pack change reloads the list in place (coalesced).
  const stamp = h('span', { class: 'live-stamp', id: 'live-updated', hidden: true, role: 'status' });
  countNote.after(stamp);
  const live = freshness(stamp);
  let reloading = null;
  const reload = () => {
    reloading ||= (async () => {
      try {
        const packs = await listAll('/api/v1/packs');
        if (!ctx.alive()) return;
        state.packs = packs;
        draw();
        live.mark();
      } catch {
        /* the next event retries */
      } finally {
        reloading = null;
      }
    })();
  };
  const offLive = onEvent((e) => {
    if (!ctx.alive()) return;
    // Folders on disk appeared or went: the "not registered" panel.
    if (e.kind === 'discovery_changed' || e.kind === 'reconnected' || e.kind === 'pack_created' || e.kind === 'pack_deleted') {
      available.load().catch(() => {});
    }
    if (e.kind !== 'discovery_changed') reload();
  });
  ctx.onCleanup(() => {
    offLive();
    live.stop();
  });
  const [packs] = await Promise.all([listAll('/api/v1/packs'), available.load()]);
  state.packs = packs;
  if (!ctx.alive()) return;
  if (!state.packs.length && available.panel.hidden) upload.open = true;
  draw();
}
