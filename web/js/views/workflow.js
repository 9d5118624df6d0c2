// Workflow page: metadata, tags, enabled toggle, warnings, the task graph,
// the normalized definition (JSON) and the original YAML; its History tab
// and diffs are in history.js.

import { h, add, badge, clear, toast } from '../dom.js';
import { api, enc, ApiError } from '../api.js';
import { timeAgo, fmtTime, plural } from '../format.js';
import { renderGraph, countTasks } from '../graph.js';
import { renderDiagnosticList, countSeverities, renderCounts } from '../diagnostics.js';
import { workflowTabs } from './history.js';

/** Source text with line numbers; lines in `marks` (Map line -> severity) are marked. */
export function sourceView(text, marks = new Map(), label = 'source') {
  const lines = String(text ?? '').split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  const width = String(lines.length).length;
  return h('div', { class: 'source', role: 'group', 'aria-label': label },
    lines.map((line, i) => {
      const sev = marks.get(i + 1);
      return h('div', { class: `sl${sev ? ` sl-mark sl-mark-${sev}` : ''}`, id: `${label}-L${i + 1}` },
        h('span', { class: 'ln' }, String(i + 1).padStart(width, ' ')),
        h('span', { class: 'gut', 'aria-hidden': 'true' }, sev ? '>' : ' '),
        h('span', { class: 'src' }, line));
    }));
}

export function graphLegend() {
  const item = (cls, text) => h('li', {}, h('span', { class: `legend-swatch ${cls}`, 'aria-hidden': 'true' }), text);
  return h('ul', { class: 'legend', 'aria-label': 'Legend' },
    item('sw-succeeded', 'succeeded'), item('sw-failed', 'failed'), item('sw-always', 'always'),
    item('sw-expression', 'expression'), item('sw-back', 'back edge (cycle)'),
    item('sw-entry', 'entry task'), item('sw-unreachable', 'unreachable'), item('sw-parallel', 'parallel group'));
}

/** Graph + toolbar + task details panel. */
export function graphPanel(definition) {
  const details = h('div', { class: 'task-details', id: 'task-details', 'aria-live': 'polite' },
    h('p', { class: 'muted' }, 'Select a task (click, or Tab then Enter) to see its definition.'));
  let selected = null;
  const svg = renderGraph(definition, {
    onSelect: (name, task, el) => {
      if (selected) selected.classList.remove('selected');
      selected = el;
      el.classList.add('selected');
      add(clear(details), 
        h('h3', {}, 'Task ', h('code', {}, name)),
        h('pre', { class: 'json' }, JSON.stringify(task, null, 2)));
    },
  });
  const viewport = h('div', { class: 'graph-viewport', tabindex: 0, 'aria-label': 'Task graph, scrollable' }, svg);
  const fit = h('button', { type: 'button', class: 'btn btn-small', 'aria-pressed': 'false', title: 'shrink the graph to fit the frame' }, 'Fit to frame');
  fit.addEventListener('click', () => {
    const on = fit.getAttribute('aria-pressed') !== 'true';
    fit.setAttribute('aria-pressed', String(on));
    viewport.classList.toggle('fit', on);
  });
  const n = countTasks(definition?.tasks || []);
  return h('div', { class: 'graph-panel' },
    h('div', { class: 'graph-toolbar' }, h('span', { class: 'muted' }, plural(n, 'task')), fit, graphLegend()),
    h('div', { class: 'graph-body' }, viewport, details));
}

export async function workflowView(root, params, ctx) {
  const ref = params.ref;
  ctx.setTitle(ref);
  const env = await api('GET', `/api/v1/workflows/${enc(ref)}`);
  if (!ctx.alive()) return;
  let wf = env.data || {};
  const def = wf.definition || {};
  const diags = Array.isArray(wf.diagnostics) ? wf.diagnostics : [];

  const toggle = h('button', { type: 'button', role: 'switch', class: 'switch', id: 'enabled-toggle' });
  const paintToggle = () => {
    toggle.setAttribute('aria-checked', String(wf.enabled !== false));
    toggle.textContent = '';
    toggle.append(h('span', { class: 'switch-knob', 'aria-hidden': 'true' }), h('span', { class: 'switch-text' }, wf.enabled !== false ? 'enabled' : 'disabled'));
  };
  paintToggle();
  toggle.addEventListener('click', async () => {
    toggle.disabled = true;
    try {
      const res = await api('PUT', `/api/v1/workflows/${enc(ref)}`, { enabled: wf.enabled === false });
      wf = { ...wf, ...(res.data || { enabled: wf.enabled === false }) };
      paintToggle();
      toast(`${ref} ${wf.enabled !== false ? 'enabled' : 'disabled'}`, 'ok');
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) toast(err.message, 'error');
    } finally {
      toggle.disabled = false;
    }
  });

  const marks = new Map();
  for (const d of diags) if (d.line && d.severity !== 'error' && !marks.has(d.line)) marks.set(d.line, 'warning');
  for (const d of diags) if (d.line && d.severity === 'error') marks.set(d.line, 'error');

  const meta = h('dl', { class: 'meta-grid' },
    [['Pack', h('a', { href: `#/packs/${enc(wf.pack_ref)}` }, wf.pack_ref)],
      ['Version', h('code', {}, wf.version || def.version || '')],
      ['Enabled', toggle],
      ['Source file', wf.source_file ? h('code', {}, wf.source_file) : '—'],
      ['Content hash', wf.content_hash ? h('code', { title: wf.content_hash }, String(wf.content_hash).slice(0, 16)) : '—'],
      ['Created', h('time', { datetime: wf.created, title: fmtTime(wf.created) }, timeAgo(wf.created))],
      ['Updated', h('time', { datetime: wf.updated, title: fmtTime(wf.updated) }, timeAgo(wf.updated))],
      ['Tags', (wf.tags || []).length ? h('span', { class: 'tags' }, wf.tags.map((t) => h('span', { class: 'tag-chip' }, t))) : h('span', { class: 'muted' }, 'none')],
    ].map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));

  // A diagnostic's location jumps to its line in the original YAML below.
  const showLine = (d) => {
    const row = document.getElementById(`yaml-L${d.line}`);
    if (!row) return;
    const details = row.closest('details');
    if (details) details.open = true;
    row.scrollIntoView({ block: 'center' });
    row.classList.remove('flash');
    void row.getBoundingClientRect();
    row.classList.add('flash');
  };
  const warnings = diags.length
    ? h('section', { class: 'panel' }, h('h2', {}, 'Diagnostics ', renderCounts(countSeverities(diags), { compact: true })), renderDiagnosticList(diags, { onLocate: showLine }))
    : (wf.warnings || []).length
      ? h('section', { class: 'panel' }, h('h2', {}, plural(wf.warnings.length, 'warning')), h('ul', { class: 'messages' }, wf.warnings.map((w) => h('li', {}, badge('warning', 'warning'), ' ', w))))
      : null;

  add(root, 
    h('div', { class: 'page-head' },
      h('div', {},
        h('p', { class: 'crumbs' }, h('a', { href: '#/packs' }, 'Packs'), ' / ', h('a', { href: `#/packs/${enc(wf.pack_ref)}` }, wf.pack_ref), ' / '),
        h('h1', {}, wf.ref || ref, (wf.label || def.label) ? h('span', { class: 'h1-sub' }, wf.label || def.label) : null),
        h('p', { class: 'meta-line' },
          wf.enabled === false ? badge('none', 'disabled') : badge('ok', 'enabled'),
          wf.stale ? badge('warning', 'stale', 'the file on disk currently has errors; this is the last good version') : null,
          h('span', {}, plural(countTasks(def.tasks || []), 'task'))),
        (wf.description || def.description) && h('p', { class: 'description' }, wf.description || def.description)),
      h('div', { class: 'page-actions' }, h('a', { class: 'btn', href: `#/packs/${enc(wf.pack_ref)}/runs` }, 'Pack run history'))),
    workflowTabs(wf.ref || ref, 'overview'),
    wf.stale ? h('p', { class: 'notice notice-warning' }, badge('warning', 'stale'), ' The file on disk has errors, so this registered version is the last good one. Validate the pack to see them.') : null,
    h('section', { class: 'panel' }, h('h2', {}, 'Details'), meta),
    warnings,
    h('section', { class: 'panel', id: 'graph' }, h('h2', {}, 'Task graph'), graphPanel(def)),
    h('div', { class: 'two-col' },
      h('section', { class: 'panel' },
        h('details', { open: true }, h('summary', {}, h('span', { class: 'summary-title' }, 'Normalized definition (JSON)')),
          h('pre', { class: 'json', tabindex: 0 }, JSON.stringify(def, null, 2)))),
      h('section', { class: 'panel' },
        h('details', { open: true }, h('summary', {}, h('span', { class: 'summary-title' }, 'Original YAML')),
          wf.source !== undefined && wf.source !== null ? sourceView(wf.source, marks, 'yaml') : h('p', { class: 'muted' }, 'The original source is not available.')))));
}
