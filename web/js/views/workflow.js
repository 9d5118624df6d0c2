// Workflow page: metadata, tags, enabled toggle, warnings, the task graph,
// the normalized definition (JSON) and the original YAML; its History tab
// and diffs are in history.js.

import { h, add, badge, clear, toast } from '../dom.js';
import { api, enc, ApiError } from '../api.js';
import { timeAgo, fmtTime, plural } from '../format.js';
import { computeLayout, drawGraph, scrollToEntry, countTasks, countGroups, taskAtPath, DRAW_ON_DEMAND_OVER, COLLAPSE_OVER, VIRTUAL_OVER } from '../graph.js';
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

/**
 * Past this many lines (or VIRTUAL_OVER tasks) the YAML and JSON panels are
 * built when opened: a 400-task file's 2,600 lines blocked the page ~0.4 s.
 */
const LAZY_SOURCE_LINES = 1500;

export function graphLegend() {
  const item = (cls, text) => h('li', {}, h('span', { class: `legend-swatch ${cls}`, 'aria-hidden': 'true' }), text);
  return h('ul', { class: 'legend', 'aria-label': 'Legend' },
    item('sw-succeeded', 'succeeded'), item('sw-failed', 'failed'), item('sw-always', 'always'),
    item('sw-expression', 'expression'), item('sw-back', 'back edge (cycle)'),
    item('sw-entry', 'entry task'), item('sw-unreachable', 'unreachable'), item('sw-parallel', 'parallel group'));
}

/**
 * Graph + toolbar + task details panel. The layout runs in a Web Worker and
 * the SVG is built in slices, so the panel is returned at once with a
 * "laying out" note and fills in. Past COLLAPSE_OVER tasks parallel groups
 * start collapsed (expand one from its details, or all from the toolbar);
 * past DRAW_ON_DEMAND_OVER the graph is drawn when asked. The element has
 * update(definition) (same shape, newer definition: no redraw) and ready
 * (a promise for the first drawing).
 */
export function graphPanel(definition, opts = {}) {
  let def = definition || {};
  const tasks = () => (Array.isArray(def.tasks) ? def.tasks : []);
  const n = countTasks(tasks());
  const groups = countGroups(tasks());
  const details = h('div', { class: 'task-details', id: 'task-details', 'aria-live': 'polite' },
    h('p', { class: 'muted' }, 'Select a task (click, or Tab then Enter) to see its definition.'));
  const state = { collapse: undefined, expanded: new Set() };
  let selected = null;
  let generation = 0;
  const viewport = h('div', { class: 'graph-viewport', tabindex: 0, 'aria-label': 'Task graph, scrollable', 'aria-busy': 'true' });
  const note = h('span', { class: 'muted graph-note', role: 'status' });
  const fit = h('button', { type: 'button', class: 'btn btn-small', 'aria-pressed': 'false', title: 'shrink the graph to fit the frame' }, 'Fit to frame');
  // The drawn graph and its layout; a big graph's overview (Fit to frame).
  let current = null;
  let overview = null;
  let first = true;
  const showGraph = (svg) => {
    clear(viewport).appendChild(svg);
    if (svg.virtual) svg.virtual.attach(viewport);
  };
  fit.addEventListener('click', async () => {
    const on = fit.getAttribute('aria-pressed') !== 'true';
    fit.setAttribute('aria-pressed', String(on));
    viewport.classList.toggle('fit', on);
    if (!current || !current.svg.virtual) return;
    // A big graph drawn near the view only: at a glance it is its overview.
    if (on) {
      current.svg.virtual.detach();
      const my = generation;
      if (!overview || overview.layout !== current.layout) {
        note.textContent = 'drawing the overview…';
        const svg = await drawGraph(current.layout, { overview: true, isCurrent: () => my === generation });
        if (!svg || my !== generation || fit.getAttribute('aria-pressed') !== 'true') return;
        overview = { layout: current.layout, svg };
        note.textContent = 'overview: boxes and edges only; turn Fit to frame off to read the tasks';
      }
      clear(viewport).appendChild(overview.svg);
      viewport.scrollLeft = 0;
    } else {
      note.textContent = '';
      showGraph(current.svg);
    }
  });
  const groupsBtn = h('button', { type: 'button', class: 'btn btn-small', id: 'graph-groups', hidden: true });
  groupsBtn.addEventListener('click', () => {
    if (state.collapse) {
      state.collapse = false;
    } else {
      state.collapse = true;
      state.expanded.clear();
    }
    draw();
  });

  const onSelect = (name, path, el) => {
    const task = taskAtPath(tasks(), path);
    if (selected) selected.classList.remove('selected');
    // (a big graph may have re-created the previously selected node)
    for (const other of viewport.querySelectorAll('.task-node.selected')) other.classList.remove('selected');
    selected = el;
    el.classList.add('selected');
    if (current && current.svg.virtual) current.svg.virtual.selectedPath = path;
    const collapsed = el.classList.contains('task-collapsed');
    const expand = collapsed
      ? h('button', { type: 'button', class: 'btn btn-small', id: 'expand-group', onClick: () => {
        state.expanded.add(path);
        draw();
      } }, 'Expand this group')
      : null;
    add(clear(details),
      h('h3', {}, 'Task ', h('code', {}, name)),
      expand,
      h('pre', { class: 'json' }, JSON.stringify(task, null, 2)));
  };

  const draw = async () => {
    const my = ++generation;
    viewport.setAttribute('aria-busy', 'true');
    if (n > COLLAPSE_OVER) note.textContent = `laying out ${plural(n, 'task')}…`;
    if (!viewport.querySelector('svg.task-graph')) clear(viewport).appendChild(h('p', { class: 'graph-placeholder muted' }, `Laying out ${plural(n, 'task')}…`));
    const started = performance.now();
    let svg;
    let result;
    try {
      result = await computeLayout(tasks(), state);
      if (my !== generation) return;
      svg = await drawGraph(result.layout, { onSelect, isCurrent: () => my === generation });
    } catch (err) {
      if (my !== generation) return;
      note.textContent = '';
      clear(viewport).appendChild(h('p', { class: 'notice notice-error' }, `cannot draw the graph: ${err && err.message ? err.message : err}`));
      viewport.removeAttribute('aria-busy');
      return;
    }
    if (!svg || my !== generation) return;
    const total = performance.now() - started;
    svg.dataset.layoutMs = result.ms.toFixed(1);
    svg.dataset.layoutIn = result.where;
    svg.dataset.renderMs = total.toFixed(1);
    selected = null;
    if (current && current.svg.virtual) current.svg.virtual.detach();
    current = { svg, layout: result.layout };
    if (fit.getAttribute('aria-pressed') === 'true' && svg.virtual) {
      fit.setAttribute('aria-pressed', 'false');
      viewport.classList.remove('fit');
    }
    showGraph(svg);
    // The caller's marks (a diff's changed tasks) go on every drawing.
    if (opts.onDrawn) opts.onDrawn(svg);
    if (first) {
      first = false;
      scrollToEntry(viewport, svg, result.layout);
    }
    viewport.removeAttribute('aria-busy');
    state.collapse = result.layout.collapse;
    // Small graphs look as they always did: no group button, no timing note.
    const big = n > COLLAPSE_OVER;
    groupsBtn.hidden = groups === 0 || !big;
    groupsBtn.textContent = state.collapse ? `Expand all ${plural(groups, 'group')}` : 'Collapse groups';
    note.textContent = big ? `drawn in ${Math.round(total)} ms${state.collapse && groups ? '; parallel groups collapsed' : ''}` : '';
  };

  const panel = h('div', { class: 'graph-panel' },
    h('div', { class: 'graph-toolbar' }, h('span', { class: 'muted' }, plural(n, 'task')), fit, groupsBtn, note, graphLegend()),
    h('div', { class: 'graph-body' }, viewport, details));
  panel.update = (next) => {
    def = next || {};
  };
  // A replaced panel stops drawing (its layout answer is dropped).
  panel.dispose = () => {
    generation++;
    if (current && current.svg.virtual) current.svg.virtual.detach();
  };
  if (n > DRAW_ON_DEMAND_OVER) {
    let release;
    panel.ready = new Promise((resolve) => (release = resolve));
    viewport.removeAttribute('aria-busy');
    viewport.appendChild(h('p', { class: 'graph-placeholder' },
      `This workflow has ${plural(n, 'task')}; drawing its graph takes a moment. `,
      h('button', { type: 'button', class: 'btn btn-small', id: 'draw-graph', onClick: () => draw().then(release) }, 'Draw the graph')));
  } else {
    panel.ready = draw();
  }
  return panel;
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
      [wf.action_file ? 'Graph file' : 'Source file', wf.source_file ? h('code', {}, wf.source_file) : '—'],
      ...(wf.action_file ? [['Action file', h('code', { 'data-testid': 'action-file' }, wf.action_file)]] : []),
      ['Content hash', wf.content_hash ? h('code', { title: wf.content_hash }, String(wf.content_hash).slice(0, 16)) : '—'],
      ['Created', h('time', { datetime: wf.created, title: fmtTime(wf.created) }, timeAgo(wf.created))],
      ['Updated', h('time', { datetime: wf.updated, title: fmtTime(wf.updated) }, timeAgo(wf.updated))],
      ['Tags', (wf.tags || []).length ? h('span', { class: 'tags' }, wf.tags.map((t) => h('span', { class: 'tag-chip' }, t))) : h('span', { class: 'muted' }, 'none')],
    ].map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));

  // Big workflows: the JSON and the YAML are built when their panel opens
  // (thousands of lines would otherwise be drawn with the page).
  const sourceLines = typeof wf.source === 'string' ? wf.source.split('\n').length : 0;
  const lazy = countTasks(def.tasks || []) > VIRTUAL_OVER || sourceLines > LAZY_SOURCE_LINES;
  const lazyPanel = (title, build) => {
    const details = h('details', { open: !lazy }, h('summary', {}, h('span', { class: 'summary-title' }, title)));
    let built = false;
    details.ensure = () => {
      if (built) return;
      built = true;
      details.appendChild(build());
    };
    if (!lazy) details.ensure();
    else details.addEventListener('toggle', () => details.open && details.ensure());
    return details;
  };
  const jsonPanel = lazyPanel('Normalized definition (JSON)', () => h('pre', { class: 'json', tabindex: 0 }, JSON.stringify(def, null, 2)));
  const yamlPanel = lazyPanel(lazy ? `Original YAML (${plural(sourceLines, 'line')})` : 'Original YAML', () => (wf.source !== undefined && wf.source !== null ? sourceView(wf.source, marks, 'yaml') : h('p', { class: 'muted' }, 'The original source is not available.')));

  // A diagnostic's location jumps to its line in the original YAML below.
  const showLine = (d) => {
    yamlPanel.ensure();
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

  const graph = graphPanel(def);
  ctx.onCleanup(() => graph.dispose());
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
    h('section', { class: 'panel', id: 'graph' }, h('h2', {}, 'Task graph'), graph),
    h('div', { class: 'two-col' },
      h('section', { class: 'panel' }, jsonPanel),
      h('section', { class: 'panel' }, yamlPanel)));
}
