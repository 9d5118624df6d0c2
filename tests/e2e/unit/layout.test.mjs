// Unit tests of the big-graph layout (web/js/layout.js): layering respects
// every edge, nothing overlaps, the result is deterministic, cycles of any
// shape are laid out, the crossing count is exact, long edges stay within
// the dummy budget, groups collapse past COLLAPSE_OVER tasks, and the
// Validate page's shape key ignores what the graph does not show. Run with
// `node --test` by scripts/e2e.sh. Sizes are those of the benchmark
// (scripts/bench-graph.sh); nothing here is timed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  layoutGraph, layoutScope, countCrossings, countTasks, shapeKey, reduceTasks, taskAtPath, stripTasks, COLLAPSE_OVER,
} from '../../../web/js/layout.js';
import { pipeline, chain, mesh } from '../../../scripts/lib/graph-gen.mjs';

const ok = (to) => ({ when: '{{ succeeded() }}', do: [to] });
const task = (name, next = [], extra = {}) => ({ name, action: 'core.noop', next, ...extra });

/** Every invariant of one scope's layout, recursively into groups. */
function assertLayout(layout, label) {
  const nodes = layout.nodes;
  for (const n of nodes) {
    for (const k of ['x', 'y', 'w', 'h']) assert.ok(Number.isFinite(n[k]), `${label}: ${n.name}.${k} is finite`);
    assert.ok(n.x >= 0 && n.y >= 0, `${label}: ${n.name} inside the drawing`);
    assert.ok(n.x + n.w <= layout.width + 0.5 && n.y + n.h <= layout.height + 0.5, `${label}: ${n.name} inside the drawing`);
  }
  // No overlap: within a row, boxes sorted by x are apart; rows do not overlap.
  const rows = new Map();
  for (const n of nodes) {
    if (!rows.has(n.layer)) rows.set(n.layer, []);
    rows.get(n.layer).push(n);
  }
  const spans = [];
  for (const [, row] of rows) {
    row.sort((a, b) => a.x - b.x);
    for (let i = 1; i < row.length; i++) {
      assert.ok(row[i - 1].x + row[i - 1].w <= row[i].x + 1e-6, `${label}: ${row[i - 1].name} overlaps ${row[i].name}`);
    }
    spans.push([Math.min(...row.map((n) => n.y)), Math.max(...row.map((n) => n.y + n.h))]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) assert.ok(spans[i - 1][1] <= spans[i][0], `${label}: rows overlap`);
  // Layering: every forward edge goes to a lower layer, every back edge to a
  // higher (or the same task); their points run down (or up).
  for (const e of layout.edges) {
    const a = nodes[e.from];
    const b = nodes[e.to];
    if (e.self) {
      assert.equal(e.from, e.to);
      continue;
    }
    if (e.back) assert.ok(b.layer < a.layer, `${label}: back edge ${a.name}→${b.name} goes up`);
    else assert.ok(b.layer > a.layer, `${label}: edge ${a.name}→${b.name} goes down (layers ${a.layer}, ${b.layer})`);
    const ys = e.points.map((p) => p.y);
    for (let k = 1; k < ys.length; k++) {
      if (e.back) assert.ok(ys[k] <= ys[k - 1], `${label}: back edge points run upwards`);
      else assert.ok(ys[k] >= ys[k - 1], `${label}: edge points run downwards`);
    }
    for (const p of e.points) assert.ok(Number.isFinite(p.x) && Number.isFinite(p.y), `${label}: finite edge points`);
  }
  for (const n of nodes) if (n.inner) assertLayout(n.inner, `${label}/${n.name}`);
}

for (const [shape, make, n] of [['pipeline', pipeline, 1200], ['chain', chain, 400], ['mesh', mesh, 3000], ['pipeline', pipeline, 3000]]) {
  test(`${shape} of ${n} tasks: layers respect edges, nothing overlaps`, () => {
    const tasks = make(n);
    assert.equal(countTasks(tasks), n, 'the generator makes exactly n tasks');
    const layout = layoutGraph(tasks, { collapse: false });
    assert.equal(layout.taskCount, n);
    assertLayout(layout, shape);
  });
}

test('the layout is deterministic', () => {
  const tasks = pipeline(1200);
  const a = JSON.stringify(stripTasks(layoutGraph(tasks, { collapse: false })), (k, v) => (v instanceof Set ? [...v] : v));
  const b = JSON.stringify(stripTasks(layoutGraph(pipeline(1200), { collapse: false })), (k, v) => (v instanceof Set ? [...v] : v));
  assert.equal(a, b);
});

test('cycles are handled: a ring with no entry, nested loops, self loops, two strongly connected parts', () => {
  const ring = Array.from({ length: 500 }, (_, i) => task(`r${i}`, [ok(`r${(i + 1) % 500}`)]));
  const ringLayout = layoutGraph(ring);
  assertLayout(ringLayout, 'ring');
  assert.equal(ringLayout.entries.size, 0, 'nobody enters a ring');
  assert.equal(ringLayout.edges.filter((e) => e.back).length, 1, 'one back edge breaks the ring');

  const tasks = [
    task('start', [ok('a')]),
    task('a', [ok('b'), { when: '{{ failed() }}', do: ['a'] }]),
    task('b', [ok('c'), { when: '{{ result().again }}', do: ['a'] }]),
    task('c', [ok('d'), { do: ['start'] }]),
    task('d', [ok('e')]),
    task('e', [{ do: ['d'] }, ok('x')]),
    task('x', [{ do: ['y'] }]),
    task('y', [{ do: ['x'] }, { do: ['b'] }]),
  ];
  const layout = layoutGraph(tasks);
  assertLayout(layout, 'loops');
  assert.ok(layout.edges.some((e) => e.self));
  assert.ok(layout.edges.filter((e) => e.back).length >= 3);
});

test('the crossing count equals a pairwise count', () => {
  let seed = 3;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (let round = 0; round < 50; round++) {
    const widths = [1 + Math.floor(rnd() * 8), 1 + Math.floor(rnd() * 8), 1 + Math.floor(rnd() * 8)];
    let id = 0;
    const layers = widths.map((w) => Array.from({ length: w }, () => id++));
    const pos = new Int32Array(id);
    layers.forEach((ids) => ids.forEach((v, i) => (pos[v] = i)));
    const downN = Array.from({ length: id }, () => []);
    for (let l = 0; l < 2; l++) {
      for (const v of layers[l]) for (const w of layers[l + 1]) if (rnd() < 0.4) downN[v].push(w);
    }
    let brute = 0;
    for (let l = 0; l < 2; l++) {
      const segs = [];
      for (const v of layers[l]) for (const w of downN[v]) segs.push([pos[v], pos[w]]);
      for (let a = 0; a < segs.length; a++) {
        for (let b = a + 1; b < segs.length; b++) if ((segs[a][0] - segs[b][0]) * (segs[a][1] - segs[b][1]) < 0) brute++;
      }
    }
    assert.equal(countCrossings(layers, downN, pos), brute, `round ${round}`);
  }
});

test('long edges stay within the dummy budget; the longest are drawn direct', () => {
  const tasks = mesh(3000);
  const layout = layoutGraph(tasks);
  const edges = layout.edges.filter((e) => !e.self).length;
  assert.ok(layout.dummies <= 2 * (3000 + edges), `${layout.dummies} dummies`);
  const direct = layout.edges.filter((e) => e.direct);
  assert.ok(direct.length > 0, 'some edges are direct');
  for (const e of direct) assert.equal(e.points.length, 2);
  // a small graph keeps all its dummies
  const small = layoutGraph(chain(100));
  assert.ok(small.edges.every((e) => !e.direct));
});

test(`past ${COLLAPSE_OVER} tasks, parallel groups are collapsed until expanded`, () => {
  const tasks = pipeline(1200);
  const layout = layoutGraph(tasks);
  assert.equal(layout.collapse, true);
  const groups = layout.nodes.filter((n) => n.groupSize);
  assert.ok(groups.length > 0);
  for (const g of groups) {
    assert.ok(g.collapsed && !g.inner, `${g.name} collapsed`);
    assert.match(g.sub, /collapsed/);
  }
  const open = layoutGraph(tasks, { expanded: [groups[0].path] });
  const opened = open.nodes.find((n) => n.path === groups[0].path);
  assert.ok(opened.inner && opened.inner.nodes.length === 3, 'the expanded group has its tasks');
  assert.ok(open.nodes.filter((n) => n.collapsed).length === groups.length - 1);
  assertLayout(open, 'expanded');
  // small graphs draw their groups open
  assert.equal(layoutGraph(pipeline(100)).collapse, false);
});

test('the shape key changes with what the graph shows, not with the rest', () => {
  const base = [task('a', [ok('b')], { input: { message: 'one' } }), task('b')];
  const sameShape = [task('a', [ok('b')], { input: { message: 'two' }, timeout: 30 }), task('b')];
  const otherEdge = [task('a', [{ when: '{{ failed() }}', do: ['b'] }]), task('b')];
  const otherName = [task('a', [ok('c')]), task('c')];
  const otherAction = [task('a', [ok('b')], { action: 'core.echo' }), task('b')];
  assert.equal(shapeKey(base), shapeKey(sameShape));
  assert.notEqual(shapeKey(base), shapeKey(otherEdge));
  assert.notEqual(shapeKey(base), shapeKey(otherName));
  assert.notEqual(shapeKey(base), shapeKey(otherAction));
  // the reduced tasks lay out exactly as the full ones
  const full = pipeline(400);
  const a = layoutScope(full).nodes.map((n) => [n.x, n.y]);
  const b = layoutScope(reduceTasks(full)).nodes.map((n) => [n.x, n.y]);
  assert.deepEqual(a, b);
});

test('taskAtPath finds nested tasks by index path, skipping non-objects', () => {
  const tasks = [task('a'), null, { name: 'p', type: 'parallel', tasks: [task('x'), 'junk', task('y')] }];
  assert.equal(taskAtPath(tasks, '0').name, 'a');
  assert.equal(taskAtPath(tasks, '1').name, 'p');
  assert.equal(taskAtPath(tasks, '1/1').name, 'y');
  assert.equal(taskAtPath(tasks, '5'), null);
  assert.equal(taskAtPath(tasks, '0/0'), null);
});

test('without a Worker (node, or a worker that cannot start) the layout runs on the calling thread', async () => {
  const { computeLayout } = await import('../../../web/js/graph.js');
  assert.equal(typeof Worker, 'undefined');
  const tasks = pipeline(600);
  const { layout, where } = await computeLayout(tasks, {});
  assert.equal(where, 'main');
  assert.equal(layout.collapse, true, 'past 500 tasks groups start collapsed');
  assert.ok(layout.nodes.every((n) => n.task === undefined), 'the task objects are not copied back');
  const direct = stripTasks(layoutGraph(reduceTasks(tasks)));
  assert.deepEqual(layout.nodes.map((n) => [n.x, n.y]), direct.nodes.map((n) => [n.x, n.y]));
  const open = await computeLayout(tasks, { collapse: false });
  assert.equal(open.layout.collapse, false);
  assert.ok(open.layout.nodes.some((n) => n.inner));
});
