// Unit tests of the task-graph layout (web/js/graph.js), run with `node --test`
// by scripts/e2e.sh. The layout is pure JavaScript, so it runs outside a browser.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyze, layoutScope, classifyWhen, countTasks } from '../../../web/js/graph.js';

const ok = (to) => ({ when: '{{ succeeded() }}', do: [to] });
const task = (name, next = [], extra = {}) => ({ name, type: 'action', action: 'core.noop', next, ...extra });

function boxesOverlap(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function assertSane(layout) {
  for (const n of layout.nodes) {
    for (const k of ['x', 'y', 'w', 'h']) assert.ok(Number.isFinite(n[k]), `${n.name}.${k} is finite`);
    assert.ok(n.x >= 0 && n.y >= 0, `${n.name} inside the drawing`);
    assert.ok(n.x + n.w <= layout.width + 0.5 && n.y + n.h <= layout.height + 0.5, `${n.name} inside the drawing`);
  }
  for (let i = 0; i < layout.nodes.length; i++) {
    for (let j = i + 1; j < layout.nodes.length; j++) {
      assert.ok(!boxesOverlap(layout.nodes[i], layout.nodes[j]), `${layout.nodes[i].name} overlaps ${layout.nodes[j].name}`);
    }
  }
  for (const e of layout.edges) {
    if (e.self) continue;
    const ys = e.points.map((p) => p.y);
    for (let k = 1; k < ys.length; k++) {
      if (e.back) assert.ok(ys[k] <= ys[k - 1], 'a back edge runs upwards');
      else assert.ok(ys[k] >= ys[k - 1], 'a forward edge runs downwards');
    }
  }
}

test('transition conditions are classified as succeeded, failed, always or expression', () => {
  assert.equal(classifyWhen('{{ succeeded() }}').kind, 'succeeded');
  assert.equal(classifyWhen('{{failed()}}').kind, 'failed');
  assert.equal(classifyWhen(undefined).kind, 'always');
  assert.equal(classifyWhen('{{ timed_out() }}').label, 'timed out');
  const expr = classifyWhen('{{ succeeded() and result().code == 0 }}');
  assert.equal(expr.kind, 'expression');
  assert.ok(expr.label.length <= 26);
});

test('entries, reachability and back edges are found', () => {
  const tasks = [
    task('start', [ok('poll')]),
    task('poll', [{ when: '{{ result().pending }}', do: ['wait'] }, ok('done')]),
    task('wait', [{ do: ['poll'] }]),
    task('done'),
    task('island_a', [ok('island_b')]),
    task('island_b', [ok('island_a')]),
  ];
  const info = analyze(tasks);
  assert.deepEqual([...info.entries], [0]);
  assert.ok(!info.reachable.has(4) && !info.reachable.has(5), 'a cycle nobody enters is unreachable');
  const back = info.edges.filter((e) => e.back).map((e) => `${tasks[e.from].name}>${tasks[e.to].name}`);
  assert.deepEqual(back.sort(), ['island_b>island_a', 'wait>poll']);
});

test('unknown targets and malformed tasks do not break the layout', () => {
  const layout = layoutScope([task('a', [ok('nope')]), null, 'x', { name: 7 }, task('b', [{ do: 'not-a-list' }])]);
  assert.equal(layout.nodes.length, 3);
  assert.equal(layout.edges.length, 0);
  assertSane(layout);
});

test('a chain is laid out top to bottom, one task per layer', () => {
  const tasks = Array.from({ length: 5 }, (_, i) => task(`t${i}`, i < 4 ? [ok(`t${i + 1}`)] : []));
  const layout = layoutScope(tasks);
  const ys = layout.nodes.map((n) => n.y);
  for (let i = 1; i < ys.length; i++) assert.ok(ys[i] > ys[i - 1]);
  assertSane(layout);
});

test('parallel tasks are groups that contain their children', () => {
  const tasks = [
    task('prep', [ok('fan')]),
    { name: 'fan', type: 'parallel', tasks: [task('a'), task('b'), task('c', [{ do: ['d'] }]), task('d')], next: [ok('end')] },
    task('end'),
  ];
  const layout = layoutScope(tasks);
  const fan = layout.nodes[1];
  assert.ok(fan.inner, 'the parallel task has an inner layout');
  assert.equal(fan.inner.nodes.length, 4);
  assert.ok(fan.w >= fan.inner.width - 32 && fan.h > fan.inner.height - 32, 'the group is as large as its content');
  assert.equal(countTasks(tasks), 7);
  assertSane(layout);
  assertSane(fan.inner);
});

test('self loops and cycles keep every forward edge pointing down', () => {
  const tasks = [task('a', [ok('b')]), task('b', [ok('c'), { when: '{{ failed() }}', do: ['b'] }]), task('c', [{ do: ['a'] }])];
  const layout = layoutScope(tasks);
  assert.ok(layout.edges.some((e) => e.self));
  assert.ok(layout.edges.some((e) => e.back));
  assertSane(layout);
});

test('a 100-task workflow with branches, joins and loops is laid out readably', () => {
  // Deterministic pseudo-random graph.
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const tasks = [];
  for (let i = 0; i < 100; i++) {
    const next = [];
    if (i + 1 < 100) next.push(ok(`t${i + 1}`));
    if (rnd() < 0.25 && i + 3 < 100) next.push({ when: '{{ failed() }}', do: [`t${i + 2 + Math.floor(rnd() * 8) % (99 - i)}`] });
    if (rnd() < 0.08 && i > 5) next.push({ when: '{{ result().retry }}', do: [`t${i - 1 - Math.floor(rnd() * 5)}`] });
    tasks.push(task(`t${i}`, next));
  }
  const started = Date.now();
  const layout = layoutScope(tasks);
  const elapsed = Date.now() - started;
  assert.equal(layout.nodes.length, 100);
  assertSane(layout);
  // Readability: the drawing stays narrow enough to read on a laptop screen.
  assert.ok(layout.width < 1600, `width ${layout.width}`);
  console.log(`# 100 tasks: ${Math.round(layout.width)}x${Math.round(layout.height)} px, ${layout.crossings} crossings, ${elapsed} ms`);
});

test('a wide fan-out keeps siblings in one layer without overlap', () => {
  const targets = Array.from({ length: 30 }, (_, i) => `leaf${i}`);
  const tasks = [task('root', [{ do: targets }]), ...targets.map((n) => task(n, [ok('join')])), task('join')];
  const layout = layoutScope(tasks);
  const leafYs = new Set(layout.nodes.slice(1, 31).map((n) => n.y));
  assert.equal(leafYs.size, 1);
  assert.equal(layout.crossings, 0);
  assertSane(layout);
});
