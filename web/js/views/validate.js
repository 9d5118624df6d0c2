// Paste-YAML page: validates the text through POST /api/v1/workflows/validate
// as you type (debounced), marks diagnostics on the text (line background,
// gutter icon, column underline) and lists them; shows the graph when valid.

import { h, add, clear, icon, debounce, badge } from '../dom.js';
import { api, listAll, ApiError } from '../api.js';
import { plural } from '../format.js';
import { renderDiagnosticList, countSeverities, renderCounts, sortDiagnostics } from '../diagnostics.js';
import { graphPanel } from './workflow.js';
import { shapeKey } from '../graph.js';

const DRAFT_KEY = 'attune.validate.draft';
const DEBOUNCE_MS = 300;

const EXAMPLE = `label: Deploy application
version: "1.0.0"
parameters:
  environment:
    type: string
    required: true
tasks:
  - name: build
    action: core.echo
    input:
      message: "building for {{ parameters.environment }}"
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

function lineStarts(text) {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

/** Offset in the textarea's value for 1-based line/column (columns in code points). */
function offsetOf(text, line, column) {
  const starts = lineStarts(text);
  const l = Math.min(Math.max(1, line || 1), starts.length) - 1;
  const lineEnd = l + 1 < starts.length ? starts[l + 1] - 1 : text.length;
  const chars = Array.from(text.slice(starts[l], lineEnd));
  const prefix = chars.slice(0, Math.max(0, (column || 1) - 1)).join('');
  return starts[l] + prefix.length;
}

function tokenEnd(chars, col) {
  let n = 0;
  while (col + n < chars.length && !/[\s,\[\]{}]/.test(chars[col + n])) n++;
  return col + Math.max(1, n);
}

export async function validateView(root, _params, ctx) {
  ctx.setTitle('Validate YAML');
  const packInput = h('input', { id: 'v-pack', list: 'v-packs', required: true, spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off' });
  const packList = h('datalist', { id: 'v-packs' });
  const nameInput = h('input', { id: 'v-name', value: 'pasted', required: true, spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off' });
  const textarea = h('textarea', { id: 'v-yaml', class: 'editor-input', wrap: 'off', spellcheck: 'false', autocapitalize: 'off', autocomplete: 'off', 'aria-label': 'Workflow YAML', 'aria-describedby': 'v-status', placeholder: 'Paste a workflow YAML file here' });
  const backdrop = h('div', { class: 'editor-backdrop', 'aria-hidden': 'true' });
  const gutter = h('div', { class: 'editor-gutter', 'aria-hidden': 'true' });
  const status = h('div', { class: 'validate-status', id: 'v-status', role: 'status' });
  const diagArea = h('div', { class: 'validate-diags', id: 'v-diags' });
  const graphArea = h('section', { class: 'panel', id: 'v-graph', hidden: true });
  const exampleBtn = h('button', { type: 'button', class: 'btn btn-small' }, 'Load example');
  const fileInput = h('input', { type: 'file', id: 'v-file', accept: '.yaml,.yml,text/yaml,text/plain', class: 'sr-only' });
  const fileBtn = h('label', { for: 'v-file', class: 'btn btn-small', tabindex: 0, role: 'button' }, 'Open file…');
  const clearBtn = h('button', { type: 'button', class: 'btn btn-small' }, 'Clear');

  add(root, 
    h('div', { class: 'page-head' },
      h('div', {}, h('h1', {}, 'Validate YAML'),
        h('p', { class: 'muted' }, 'Paste a workflow file or open one from this computer: it is checked as you type, exactly as a sync would check it. Nothing is stored.')),
      h('div', { class: 'page-actions' }, fileInput, fileBtn, exampleBtn, clearBtn)),
    h('div', { class: 'validate-grid' },
      h('section', { class: 'panel editor-panel' },
        h('div', { class: 'inline-fields' },
          h('div', { class: 'field' }, h('label', { for: 'v-pack' }, 'Pack'), packInput, packList),
          h('div', { class: 'field' }, h('label', { for: 'v-name' }, 'Workflow name'), nameInput)),
        status,
        h('div', { class: 'editor' }, gutter, h('div', { class: 'editor-area' }, backdrop, textarea))),
      h('section', { class: 'panel diag-panel', 'aria-label': 'Diagnostics' }, h('h2', {}, 'Diagnostics'), diagArea)),
    graphArea);

  let diags = [];
  let seq = 0;
  let graph = null;
  let graphKey = null;
  let controller = null;

  const paint = () => {
    const text = textarea.value;
    const lines = text.split('\n');
    const byLine = new Map();
    for (const d of diags) {
      if (!d.line || d.line > lines.length) continue;
      if (!byLine.has(d.line)) byLine.set(d.line, []);
      byLine.get(d.line).push(d);
    }
    clear(backdrop);
    clear(gutter);
    lines.forEach((line, i) => {
      const n = i + 1;
      const list = byLine.get(n) || [];
      const sev = list.some((d) => d.severity === 'error') ? 'error' : list.length ? 'warning' : null;
      gutter.appendChild(h('div', { class: `gl${sev ? ` gl-${sev}` : ''}`, title: list.map((d) => `${d.severity} ${d.code}: ${d.message}`).join('\n') || undefined },
        sev ? icon(sev) : null, h('span', {}, String(n))));
      const chars = Array.from(line);
      const ranges = list.filter((d) => d.column).map((d) => {
        const start = Math.min(d.column - 1, chars.length);
        return { start, end: Math.max(start + 1, tokenEnd(chars, start)), sev: d.severity === 'error' ? 'error' : 'warning' };
      }).sort((a, b) => a.start - b.start);
      const parts = [];
      let at = 0;
      for (const r of ranges) {
        if (r.start < at) continue;
        parts.push(chars.slice(at, r.start).join(''));
        parts.push(h('mark', { class: `ul ul-${r.sev}` }, chars.slice(r.start, r.end).join('') || ' '));
        at = r.end;
      }
      parts.push(chars.slice(at).join('') || '\u200b');
      backdrop.appendChild(h('div', { class: `bl${sev ? ` bl-${sev}` : ''}` }, parts));
    });
    syncScroll();
  };

  const syncScroll = () => {
    backdrop.scrollTop = textarea.scrollTop;
    backdrop.scrollLeft = textarea.scrollLeft;
    gutter.scrollTop = textarea.scrollTop;
  };
  textarea.addEventListener('scroll', syncScroll);

  const locate = (d) => {
    const pos = offsetOf(textarea.value, d.line, d.column);
    textarea.focus();
    textarea.setSelectionRange(pos, pos);
    const lh = parseFloat(getComputedStyle(textarea).lineHeight) || 20;
    textarea.scrollTop = Math.max(0, (d.line - 3) * lh);
    syncScroll();
  };

  const setStatus = (kind, node) => {
    status.className = `validate-status status-${kind}`;
    add(clear(status), node);
  };

  const showResult = (data) => {
    // A counter of answers shown (the browser test waits on it).
    diagArea.dataset.results = String(Number(diagArea.dataset.results || 0) + 1);
    diags = sortDiagnostics(Array.isArray(data.diagnostics) ? data.diagnostics : []);
    const counts = countSeverities(diags);
    if (data.valid) {
      const n = data.workflow?.tasks?.length ?? 0;
      setStatus(counts.warnings ? 'warning' : 'ok', h('span', {}, badge(counts.warnings ? 'warning' : 'ok', 'valid'), ` ${plural(n, 'task')}`, counts.warnings ? [', ', plural(counts.warnings, 'warning')] : ''));
    } else {
      setStatus('error', h('span', {}, badge('error', 'invalid'), ' ', renderCounts(counts, { compact: true })));
    }
    clear(diagArea).appendChild(diags.length
      ? renderDiagnosticList(diags, { onLocate: locate })
      : h('p', { class: 'muted' }, 'No problems found.'));
    if (data.workflow && Array.isArray(data.workflow.tasks)) {
      // Redraw only when what the graph shows changed (task names, types,
      // actions, transitions), not on every keystroke that keeps it valid.
      const key = shapeKey(data.workflow.tasks);
      if (key === graphKey && graph) {
        graph.update(data.workflow);
      } else {
        graphKey = key;
        if (graph) graph.dispose();
        graph = graphPanel(data.workflow);
        graphArea.dataset.draws = String(Number(graphArea.dataset.draws || 0) + 1);
        add(clear(graphArea), h('h2', {}, 'Task graph'), graph);
      }
      graphArea.hidden = false;
    } else {
      graphArea.hidden = true;
    }
    paint();
  };

  const run = async () => {
    const text = textarea.value;
    try {
      sessionStorage.setItem(DRAFT_KEY, text);
    } catch {
      /* storage full or disabled: the draft is simply not kept */
    }
    if (!text.trim()) {
      diags = [];
      setStatus('idle', h('span', { class: 'muted' }, 'Paste or type a workflow to validate it.'));
      clear(diagArea);
      graphArea.hidden = true;
      paint();
      return;
    }
    const my = ++seq;
    if (controller) controller.abort();
    controller = new AbortController();
    setStatus('busy', h('span', { class: 'muted' }, 'Validating…'));
    try {
      const env = await api('POST', '/api/v1/workflows/validate', {
        pack_ref: packInput.value.trim(),
        name: nameInput.value.trim() || 'pasted',
        yaml: text,
      }, { signal: controller.signal });
      if (my !== seq || !ctx.alive()) return;
      showResult(env.data || {});
    } catch (err) {
      if (my !== seq || !ctx.alive() || (err && err.name === 'AbortError')) return;
      if (err instanceof ApiError && err.status === 401) return;
      if (err instanceof ApiError && Array.isArray(err.body?.diagnostics)) {
        showResult({ valid: false, diagnostics: err.body.diagnostics });
        return;
      }
      setStatus('error', h('span', {}, badge('error', 'error'), ' ', err.message));
    }
  };
  const schedule = debounce(run, DEBOUNCE_MS);
  let frame = 0;
  textarea.addEventListener('input', () => {
    // Repaint once per frame however fast the user types.
    if (!frame) {
      frame = requestAnimationFrame(() => {
        frame = 0;
        paint();
      });
    }
    schedule();
  });
  packInput.addEventListener('input', schedule);
  nameInput.addEventListener('input', schedule);
  exampleBtn.addEventListener('click', () => {
    textarea.value = EXAMPLE;
    paint();
    run();
    textarea.focus();
  });
  // A local file is read in the browser; nothing leaves the machine but the validate call.
  fileInput.addEventListener('change', async () => {
    const file = fileInput.files && fileInput.files[0];
    if (!file) return;
    textarea.value = await file.text();
    const stem = file.name.replace(/\.(ya?ml)$/i, '');
    if (/^[A-Za-z0-9_-]+$/.test(stem)) nameInput.value = stem;
    fileInput.value = '';
    paint();
    run();
    textarea.focus();
  });
  fileBtn.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      fileInput.click();
    }
  });
  clearBtn.addEventListener('click', () => {
    textarea.value = '';
    run();
    textarea.focus();
  });
  ctx.onCleanup(() => {
    if (graph) graph.dispose();
    schedule.cancel();
    if (frame) cancelAnimationFrame(frame);
    if (controller) controller.abort();
  });

  let draft = '';
  try {
    draft = sessionStorage.getItem(DRAFT_KEY) || '';
  } catch {
    draft = '';
  }
  textarea.value = draft;
  paint();
  try {
    const packs = await listAll('/api/v1/packs');
    if (!ctx.alive()) return;
    for (const p of packs) packList.appendChild(h('option', { value: p.ref }, p.label || p.ref));
    if (!packInput.value) packInput.value = ctx.query.get('pack') || (packs[0] && packs[0].ref) || 'default';
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return;
    if (!packInput.value) packInput.value = 'default';
  }
  run();
}
