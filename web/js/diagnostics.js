// Compiler-style rendering of validation diagnostics: severity (icon + word),
// code, message, file:line:col, source snippet with line numbers, the
// offending line marked and the column underlined, and the hint.

import { h, icon } from './dom.js';
import { plural } from './format.js';

const SEVERITY_RANK = { error: 0, warning: 1 };

export function sortDiagnostics(list) {
  return [...(list || [])].sort((a, b) =>
    (SEVERITY_RANK[a.severity] ?? 2) - (SEVERITY_RANK[b.severity] ?? 2) ||
    String(a.file || '').localeCompare(String(b.file || '')) ||
    (a.line || 0) - (b.line || 0) ||
    (a.column || 0) - (b.column || 0));
}

export function countSeverities(list) {
  let errors = 0;
  let warnings = 0;
  for (const d of list || []) {
    if (d.severity === 'error') errors++;
    else warnings++;
  }
  return { errors, warnings };
}

export function severityKind(sev) {
  return sev === 'error' ? 'error' : 'warning';
}

/** "file:line:col" (or what is known of it). */
export function location(d) {
  const parts = [];
  if (d.file) parts.push(d.file);
  if (d.line) parts.push(d.line);
  if (d.line && d.column) parts.push(d.column);
  return parts.join(':');
}

/** Length of the token starting at 0-based index `col` in `chars`. */
function tokenLength(chars, col) {
  if (col >= chars.length) return 1;
  const first = chars[col];
  if (first === '"' || first === "'") {
    for (let i = col + 1; i < chars.length; i++) {
      if (chars[i] === first) return i - col + 1;
    }
    return chars.length - col;
  }
  if (first === '{' && chars[col + 1] === '{') {
    for (let i = col + 2; i < chars.length - 1; i++) {
      if (chars[i] === '}' && chars[i + 1] === '}') return i - col + 2;
    }
  }
  let n = 0;
  while (col + n < chars.length && !/[\s,\[\]{}]/.test(chars[col + n])) {
    if (n > 0 && chars[col + n] === ':' && (col + n + 1 >= chars.length || chars[col + n + 1] === ' ')) break;
    n++;
  }
  return Math.max(1, n);
}

/** One source line, the token at `column` (1-based) wrapped in a marker. */
function markedLine(text, column, severity) {
  const chars = Array.from(text);
  const col = Math.max(0, Math.min((column || 1) - 1, chars.length));
  const len = tokenLength(chars, col);
  const before = chars.slice(0, col).join('');
  const mid = chars.slice(col, col + len).join('');
  const after = chars.slice(col + len).join('');
  return {
    node: [before, h('span', { class: `col-mark col-mark-${severity}` }, mid || ' '), after],
    caret: ' '.repeat(col) + '^' + '~'.repeat(Math.max(0, len - 1)),
  };
}

/**
 * A source excerpt: rows of [line number, gutter, text]. `focusLine` is
 * marked, its `column` underlined and a caret row added below it.
 */
export function renderSnippet(snippet, focusLine, column, severity = 'error') {
  if (!snippet || !Array.isArray(snippet.lines) || snippet.lines.length === 0) return null;
  const start = snippet.start_line || 1;
  const width = String(start + snippet.lines.length - 1).length;
  const rows = [];
  snippet.lines.forEach((text, i) => {
    const n = start + i;
    const num = String(n).padStart(width, ' ');
    if (n === focusLine) {
      const { node, caret } = markedLine(String(text), column, severity);
      rows.push(h('div', { class: `sl sl-mark sl-mark-${severity}` },
        h('span', { class: 'ln', 'aria-label': `line ${n}` }, num),
        h('span', { class: 'gut', 'aria-hidden': 'true' }, '>'),
        h('span', { class: 'src' }, node)));
      rows.push(h('div', { class: `sl sl-caret sl-caret-${severity}`, 'aria-hidden': 'true' },
        h('span', { class: 'ln' }, ' '.repeat(width)),
        h('span', { class: 'gut' }, ' '),
        h('span', { class: 'src' }, caret)));
    } else {
      rows.push(h('div', { class: 'sl' },
        h('span', { class: 'ln', 'aria-label': `line ${n}` }, num),
        h('span', { class: 'gut', 'aria-hidden': 'true' }, ' '),
        h('span', { class: 'src' }, String(text))));
    }
  });
  return h('div', { class: 'snippet', role: 'group', 'aria-label': 'source excerpt' }, rows);
}

/**
 * One diagnostic. Options: onLocate(d) makes the location a button (used by
 * the paste-YAML page to move the cursor there).
 */
export function renderDiagnostic(d, { onLocate } = {}) {
  const kind = severityKind(d.severity);
  const loc = location(d);
  const locNode = loc
    ? onLocate
      ? h('button', { type: 'button', class: 'linklike loc', onClick: () => onLocate(d), title: 'move the cursor there' }, loc)
      : h('span', { class: 'loc' }, loc)
    : null;
  return h('article', { class: `diag diag-${kind}`, dataset: { code: d.code || '', line: d.line || '' } },
    h('div', { class: 'diag-head' },
      h('span', { class: `sev sev-${kind}` }, icon(kind), h('span', { class: 'sev-word' }, kind)),
      d.code
        ? h('a', { class: 'diag-code', href: `/docs/rules#${encodeURIComponent(d.code)}`, target: '_blank', rel: 'noopener', title: 'what this rule means and how to fix it' }, h('code', {}, d.code))
        : h('code', { class: 'diag-code' }, 'unknown'),
      h('span', { class: 'diag-msg' }, d.message || '')),
    (locNode || d.path) && h('div', { class: 'diag-loc' },
      h('span', { class: 'arrow', 'aria-hidden': 'true' }, '-->'),
      locNode,
      d.path && h('span', { class: 'diag-path', title: 'path in the document' }, d.path)),
    renderSnippet(d.snippet, d.line, d.column, kind),
    d.hint && h('div', { class: 'diag-hint' }, h('span', { class: 'hint-label' }, 'hint:'), ' ', d.hint));
}

/** Counts line: "2 errors, 1 warning" with icons. */
export function renderCounts({ errors, warnings }, { compact = false } = {}) {
  return h('span', { class: 'counts' },
    (errors || !compact) && h('span', { class: `count ${errors ? 'count-error' : 'count-zero'}` }, icon(errors ? 'error' : 'none'), plural(errors, 'error')),
    (warnings || !compact) && h('span', { class: `count ${warnings ? 'count-warning' : 'count-zero'}` }, icon(warnings ? 'warning' : 'none'), plural(warnings, 'warning')));
}

export function renderDiagnosticList(list, opts) {
  const sorted = sortDiagnostics(list);
  return h('div', { class: 'diag-list' }, sorted.map((d) => renderDiagnostic(d, opts)));
}
