// Sync / validation results grouped by workflow: failed, missing, created,
// updated, unchanged (and pruned), each with its diagnostics, errors first,
// counts at the top. Used by the pack page and the run page.

import { h, badge } from './dom.js';
import { plural, fmtDuration, fmtTime } from './format.js';
import { renderDiagnosticList, countSeverities, renderCounts } from './diagnostics.js';
import { enc } from './api.js';

const STATUS = {
  failed: { kind: 'error', title: 'Failed', note: 'not registered' },
  missing: { kind: 'warning', title: 'Missing', note: 'registered, but the file is gone' },
  warnings: { kind: 'warning', title: 'With warnings', note: '' },
  created: { kind: 'ok', title: 'Created', note: '' },
  updated: { kind: 'ok', title: 'Updated', note: '' },
  unchanged: { kind: 'ok', title: 'Unchanged', note: '' },
  pruned: { kind: 'info', title: 'Pruned', note: 'removed from the database' },
  valid: { kind: 'ok', title: 'Valid', note: '' },
};
const ORDER = ['failed', 'missing', 'warnings', 'created', 'updated', 'unchanged', 'valid', 'pruned'];

function groupFor(map, ref) {
  if (!map.has(ref)) map.set(ref, { ref, status: null, file: null, diags: [], messages: [], registered: false });
  return map.get(ref);
}

/**
 * Normalize a sync result, a validate result or a run record into
 * {kind, dryRun, prune, groups, looseErrors, diags, counts, validated}.
 */
export function normalizeResult(data, kindHint) {
  const kind = data.kind || kindHint || (data.validated_count !== undefined ? 'validate' : 'sync');
  const map = new Map();
  const diags = Array.isArray(data.diagnostics) ? data.diagnostics : [];
  const fileToRef = new Map();

  for (const w of data.workflows || []) {
    const g = groupFor(map, w.ref_name);
    g.status = w.status || (w.created ? 'created' : 'updated');
    g.registered = true;
    if (w.revision && w.revision.to) g.revision = w.revision;
    g.id = w.workflow_def_id;
    for (const m of w.warnings || []) g.messages.push({ severity: 'warning', text: m });
  }
  for (const f of data.failed || []) {
    const g = groupFor(map, f.ref_name);
    g.status = 'failed';
    g.file = f.file || g.file;
    if (f.file) fileToRef.set(f.file, f.ref_name);
    for (const m of f.errors || []) g.messages.push({ severity: 'error', text: m });
  }
  for (const ref of data.missing || []) {
    const g = groupFor(map, ref);
    if (!g.status) g.status = 'missing';
    g.registered = true;
  }
  for (const ref of data.pruned || []) {
    const g = groupFor(map, ref);
    g.status = 'pruned';
    g.registered = false;
  }
  // validate: errors/warnings are maps ref -> [string]
  if (data.errors && !Array.isArray(data.errors)) {
    for (const [ref, list] of Object.entries(data.errors)) {
      const g = groupFor(map, ref);
      g.status = 'failed';
      for (const m of list || []) g.messages.push({ severity: 'error', text: m });
    }
  }
  if (data.warnings && !Array.isArray(data.warnings)) {
    for (const [ref, list] of Object.entries(data.warnings)) {
      const g = groupFor(map, ref);
      for (const m of list || []) g.messages.push({ severity: 'warning', text: m });
    }
  }
  const loose = [];
  for (const d of diags) {
    const ref = d.ref || (d.file && fileToRef.get(d.file));
    if (!ref) {
      loose.push(d);
      continue;
    }
    const g = groupFor(map, ref);
    g.diags.push(d);
    if (!g.file && d.file) g.file = d.file;
  }
  for (const g of map.values()) {
    const c = countSeverities(g.diags);
    g.errors = c.errors;
    g.warnings = c.warnings;
    if (!g.status) g.status = c.errors ? 'failed' : kind === 'validate' ? (c.warnings || g.messages.length ? 'warnings' : 'valid') : 'warnings';
    if (g.status === 'failed' && !g.errors) g.errors = g.messages.filter((m) => m.severity === 'error').length;
  }
  // plain error strings not tied to any workflow (e.g. missing pack folder)
  const looseErrors = [];
  if (Array.isArray(data.errors)) {
    for (const e of data.errors) {
      const tied = [...map.values()].some((g) => g.status === 'failed' && (e.includes(g.ref) || g.messages.some((m) => m.text === e)));
      if (!tied) looseErrors.push(e);
    }
  }
  const groups = [...map.values()].sort((a, b) =>
    ORDER.indexOf(a.status) - ORDER.indexOf(b.status) || b.errors - a.errors || a.ref.localeCompare(b.ref));
  const totals = countSeverities(diags);
  return {
    kind,
    dryRun: !!data.dry_run,
    prune: !!data.prune,
    groups,
    looseErrors,
    loose,
    totals,
    data,
  };
}

function groupBadge(g) {
  const st = STATUS[g.status] || STATUS.valid;
  return badge(st.kind, g.status === 'warnings' ? 'warnings' : g.status, st.note);
}

function renderGroup(g, { linkWorkflows, dryRun }) {
  const hasBody = g.diags.length > 0 || g.messages.length > 0;
  const title = linkWorkflows && g.registered && g.status !== 'pruned'
    ? h('a', { href: `#/workflows/${enc(g.ref)}`, class: 'ref' }, g.ref)
    : h('span', { class: 'ref' }, g.ref);
  const head = h('div', { class: 'group-head' },
    groupBadge(g), title,
    g.file && h('span', { class: 'muted file' }, g.file),
    g.revision && linkWorkflows !== false
      ? h('a', { class: 'diff-link', href: `#/workflows/${enc(g.ref)}/diff?${g.revision.from ? `from=${g.revision.from}&` : ''}to=${g.revision.to}`, title: 'what this sync changed in the workflow' },
        g.revision.from ? `diff r${g.revision.from} → r${g.revision.to}` : `r${g.revision.to}`)
      : null,
    // A pruned workflow keeps its revisions: its history is where it can be restored.
    g.status === 'pruned' && !dryRun && linkWorkflows !== false
      ? h('a', { class: 'diff-link', href: `#/workflows/${enc(g.ref)}/history`, title: 'the pruned workflow keeps its revisions; restore one from here' }, 'history')
      : null,
    (g.errors || g.warnings) ? renderCounts({ errors: g.errors, warnings: g.warnings }, { compact: true }) : null);
  if (!hasBody) return h('li', { class: `group group-${g.status} group-empty`, dataset: { ref: g.ref, status: g.status } }, head);
  // Diagnostics are authoritative; plain messages only when there are none.
  const body = g.diags.length
    ? renderDiagnosticList(g.diags)
    : h('ul', { class: 'messages' }, g.messages.map((m) => h('li', { class: `msg msg-${m.severity}` }, badge(m.severity === 'error' ? 'error' : 'warning', m.severity), ' ', m.text)));
  return h('li', { class: `group group-${g.status}`, dataset: { ref: g.ref, status: g.status } },
    h('details', { open: g.status === 'failed' || g.diags.length < 30 }, h('summary', {}, head), body));
}

/** Full result view. Options: {linkWorkflows, runId, title}. */
export function renderResult(data, kindHint, opts = {}) {
  const r = normalizeResult(data, kindHint);
  const { linkWorkflows = true } = opts;
  const byStatus = {};
  for (const g of r.groups) byStatus[g.status] = (byStatus[g.status] || 0) + 1;

  const countItems = r.kind === 'validate'
    ? [['validated', data.validated_count ?? data.counts?.loaded ?? r.groups.length], ['with errors', data.error_count ?? byStatus.failed ?? 0]]
    : [['created', byStatus.created || 0], ['updated', byStatus.updated || 0], ['unchanged', byStatus.unchanged || 0],
       ['failed', byStatus.failed || 0], ['missing', byStatus.missing || 0]].concat(byStatus.pruned || r.prune ? [['pruned', byStatus.pruned || 0]] : []);

  const summary = h('div', { class: 'result-summary' },
    h('div', { class: 'result-title' },
      h('strong', {}, opts.title || (r.kind === 'validate' ? 'Validation' : r.dryRun ? 'Sync plan (dry run)' : 'Sync')),
      r.dryRun && badge('info', 'dry run', 'nothing was written'),
      renderCounts(r.totals),
      data.duration_ms !== undefined && h('span', { class: 'muted' }, fmtDuration(data.duration_ms)),
      data.started && h('span', { class: 'muted' }, fmtTime(data.started)),
      (data.run_id || opts.runId) && !opts.hideRunLink && h('a', { href: `#/runs/${enc(data.run_id || opts.runId)}`, class: 'muted' }, 'run record')),
    h('dl', { class: 'count-row' }, countItems.map(([k, v]) => h('div', { class: `cnt ${v && (k === 'failed' || k === 'with errors') ? 'cnt-bad' : ''}` }, h('dt', {}, k), h('dd', {}, String(v))))));

  const parts = [summary];
  if (r.dryRun) parts.push(h('p', { class: 'notice' }, 'Dry run: this is what a sync would do. Nothing was written.'));
  for (const e of r.looseErrors) parts.push(h('div', { class: 'notice notice-error' }, badge('error', 'error'), ' ', e));
  if (r.loose.length) {
    parts.push(h('section', { class: 'group-section' }, h('h3', {}, 'Pack-level diagnostics'), renderDiagnosticList(r.loose)));
  }
  let current = null;
  let list = null;
  for (const g of r.groups) {
    if (g.status !== current) {
      current = g.status;
      const n = byStatus[current];
      const st = STATUS[current] || STATUS.valid;
      const note = r.dryRun && current === 'pruned' ? 'would be removed from the database' : st.note;
      list = h('ul', { class: 'groups' });
      parts.push(h('section', { class: `group-section section-${current}`, dataset: { status: current } },
        h('h3', {}, `${r.dryRun && ['created', 'updated', 'pruned'].includes(current) ? 'Would be ' + st.title.toLowerCase() : st.title} `, h('span', { class: 'muted' }, `(${n})`), note && h('span', { class: 'muted note' }, ` — ${note}`)),
        list));
    }
    list.appendChild(renderGroup(g, { linkWorkflows, dryRun: r.dryRun }));
  }
  if (r.kind === 'validate') {
    const clean = (data.validated_count ?? data.counts?.loaded ?? 0) - r.groups.length;
    if (clean > 0) parts.push(h('p', { class: 'muted' }, `${plural(clean, 'other workflow file')} validated without diagnostics.`));
  }
  if (r.groups.length === 0 && r.looseErrors.length === 0 && r.loose.length === 0) {
    parts.push(h('p', { class: 'muted' }, r.kind === 'validate' ? 'No workflow files found.' : 'Nothing to report: no workflow files were found.'));
  }
  return h('div', { class: `result result-${r.kind}` }, parts);
}
