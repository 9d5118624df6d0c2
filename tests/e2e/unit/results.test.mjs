// Unit tests of the result grouping and diagnostic ordering used by the pack
// and run pages (web/js/results.js, web/js/diagnostics.js, web/js/format.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeResult } from '../../../web/js/results.js';
import { sortDiagnostics, location } from '../../../web/js/diagnostics.js';
import { summaryStatus, timeAgo } from '../../../web/js/format.js';

const diag = (severity, code, ref, line, extra = {}) => ({ severity, code, message: code, ref, file: `p/workflows/${ref.split('.')[1]}.yaml`, line, column: 3, path: '', ...extra });

test('a sync result is grouped by workflow, failed first', () => {
  const r = normalizeResult({
    pack_ref: 'p',
    workflows: [
      { ref_name: 'p.b', created: true, workflow_def_id: 1, warnings: ['w'], status: 'created' },
      { ref_name: 'p.c', created: false, workflow_def_id: 2, warnings: [], status: 'unchanged' },
    ],
    failed: [{ ref_name: 'p.a', file: 'p/workflows/a.yaml', errors: ['boom'] }],
    errors: ['Validation failed for p.a: boom'],
    missing: ['p.gone'],
    pruned: [],
    diagnostics: [diag('warning', 'unknown-key', 'p.b', 4), diag('error', 'unknown-task', 'p.a', 9), diag('error', 'missing-field', 'p.a', 1)],
  }, 'sync');
  assert.deepEqual(r.groups.map((g) => [g.ref, g.status]), [['p.a', 'failed'], ['p.gone', 'missing'], ['p.b', 'created'], ['p.c', 'unchanged']]);
  assert.equal(r.groups[0].errors, 2);
  assert.equal(r.groups[2].warnings, 1);
  assert.deepEqual(r.looseErrors, [], 'the error string of a failed workflow is not repeated');
  assert.deepEqual(r.totals, { errors: 2, warnings: 1 });
});

test('an error of the whole pack (missing folder) is shown on its own', () => {
  const r = normalizeResult({ pack_ref: 'p', loaded_count: 0, workflows: [], failed: [], errors: ['Failed to load workflows: Directory not found'], diagnostics: [] }, 'sync');
  assert.deepEqual(r.looseErrors, ['Failed to load workflows: Directory not found']);
  assert.equal(r.groups.length, 0);
});

test('a validate result groups the error map and the diagnostics', () => {
  const r = normalizeResult({
    pack_ref: 'p', validated_count: 3, error_count: 1,
    errors: { 'p.a': ['boom'] }, warnings: { 'p.b': ['meh'] },
    diagnostics: [diag('error', 'yaml-syntax', 'p.a', 2), diag('warning', 'missing-label', 'p.b', 1)],
  }, 'validate');
  assert.equal(r.kind, 'validate');
  assert.deepEqual(r.groups.map((g) => [g.ref, g.status]), [['p.a', 'failed'], ['p.b', 'warnings']]);
});

test('diagnostics sort errors first, then by file, line and column', () => {
  const sorted = sortDiagnostics([
    diag('warning', 'w1', 'p.a', 1),
    diag('error', 'e2', 'p.a', 9),
    diag('error', 'e1', 'p.a', 2),
  ]);
  assert.deepEqual(sorted.map((d) => d.code), ['e1', 'e2', 'w1']);
  assert.equal(location(sorted[0]), 'p/workflows/a.yaml:2:3');
});

test('a run summary reads as failed, warnings, ok or never', () => {
  assert.equal(summaryStatus(null).word, 'never');
  assert.equal(summaryStatus({ ok: false, error_count: 2, warning_count: 1, workflow_count: 3 }).word, '2 failed');
  assert.equal(summaryStatus({ ok: true, error_count: 0, warning_count: 1, workflow_count: 3 }).kind, 'warning');
  assert.equal(summaryStatus({ ok: true, error_count: 0, warning_count: 0, workflow_count: 3 }).kind, 'ok');
  const now = Date.parse('2026-01-01T12:00:00Z');
  assert.equal(timeAgo('2026-01-01T11:50:00Z', now), '10 min ago');
  assert.equal(timeAgo('not a time', now), '—');
});
