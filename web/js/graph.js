// The task graph of a normalized workflow definition, drawn as SVG with no
// library. The layout (web/js/layout.js, pure) runs in a module Web Worker
// (web/js/graph-worker.js, served from the same versioned /ui/ path), or on
// the main thread if a worker cannot start; the SVG is then built in slices
// of about 12 ms so the page keeps answering input while a big graph is
// drawn. Every task is one <g class="task-node" data-task="NAME"
// data-path="I/J">.

import { s } from './dom.js';
import {
  analyze, layoutScope, layoutGraph, classifyWhen, countTasks, reduceTasks, shapeKey, taskAtPath, stripTasks, truncate,
  MARGIN, GROUP_HEAD, CHAR_W, SUB_CHAR_W, LABEL_CHAR_W, COLLAPSE_OVER,
} from './layout.js';

export { analyze, layoutScope, layoutGraph, classifyWhen, countTasks, reduceTasks, shapeKey, taskAtPath, COLLAPSE_OVER };

/** Past this many tasks the graph is drawn only when asked. */
export const DRAW_ON_DEMAND_OVER = 5000;
/** Main-thread slice while building the SVG. */
const SLICE_MS = 12;

let graphSeq = 0;

// ---- layout off the main thread ------------------------------------------

let worker = null;
let workerFailed = false;
let nextRequest = 0;
const waiting = new Map();

function workerDown() {
  workerFailed = true;
  const list = [...waiting.values()];
  waiting.clear();
  if (worker) {
    try {
      worker.terminate();
    } catch {
      /* already gone */
    }
  }
  worker = null;
  for (const w of list) w.fallback();
}

function layoutWorker() {
  if (workerFailed || typeof Worker === 'undefined') return null;
  if (worker) return worker;
  try {
    worker = new Worker(new URL('./graph-worker.js', import.meta.url), { type: 'module', name: 'attune-graph-layout' });
  } catch {
    workerFailed = true;
    return null;
  }
  worker.addEventListener('message', (ev) => {
    const { id, layout, ms, error } = ev.data || {};
    const w = waiting.get(id);
    if (!w) return;
    waiting.delete(id);
    if (error || !layout) w.fallback();
    else w.resolve({ layout, ms, where: 'worker' });
  });
  worker.addEventListener('error', (ev) => {
    ev.preventDefault();
    workerDown();
  });
  worker.addEventListener('messageerror', workerDown);
  return worker;
}

/**
 * Lay out a task list. Resolves to {layout, ms, where: 'worker' | 'main'}.
 * options: {collapse, expanded (iterable of group paths), mainThread}.
 */
export function computeLayout(tasks, options = {}) {
  const reduced = reduceTasks(tasks);
  const layoutOpts = { collapse: options.collapse, expanded: [...(options.expanded || [])] };
  const onMain = () => {
    const started = performance.now();
    const layout = stripTasks(layoutGraph(reduced, layoutOpts));
    return { layout, ms: performance.now() - started, where: 'main' };
  };
  const w = options.mainThread ? null : layoutWorker();
  if (!w) return Promise.resolve().then(onMain);
  return new Promise((resolve, reject) => {
    const id = ++nextRequest;
    waiting.set(id, {
      resolve,
      fallback: () => {
        try {
          resolve(onMain());
        } catch (err) {
          reject(err);
        }
      },
    });
    w.postMessage({ id, tasks: reduced, options: layoutOpts });
  });
}

// ---- drawing ----------------------------------------------------------------

function cubicPath(pts) {
  let d = `M${pts[0].x.toFixed(1)},${pts[0].y.toFixed(1)}`;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1];
    const b = pts[i];
    if (Math.abs(a.x - b.x) < 0.5) {
      d += ` L${b.x.toFixed(1)},${b.y.toFixed(1)}`;
    } else {
      const my = (b.y - a.y) / 2;
      d += ` C${a.x.toFixed(1)},${(a.y + my).toFixed(1)} ${b.x.toFixed(1)},${(b.y - my).toFixed(1)} ${b.x.toFixed(1)},${b.y.toFixed(1)}`;
    }
  }
  return d;
}

function cubicAt(a, b, t) {
  const my = (b.y - a.y) / 2;
  const p1 = { x: a.x, y: a.y + my };
  const p2 = { x: b.x, y: b.y - my };
  const u = 1 - t;
  return {
    x: u * u * u * a.x + 3 * u * u * t * p1.x + 3 * u * t * t * p2.x + t * t * t * b.x,
    y: u * u * u * a.y + 3 * u * u * t * p1.y + 3 * u * t * t * p2.y + t * t * t * b.y,
  };
}

function overlaps(a, b) {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** Boxes in a uniform grid: "does this box overlap any" without a scan of all. */
class BoxGrid {
  constructor(cell = 160) {
    this.cell = cell;
    this.cells = new Map();
    this.big = [];
  }

  range(b) {
    const c = this.cell;
    return [Math.floor(b.x / c), Math.floor((b.x + b.w) / c), Math.floor(b.y / c), Math.floor((b.y + b.h) / c)];
  }

  add(b) {
    const [x0, x1, y0, y1] = this.range(b);
    if ((x1 - x0 + 1) * (y1 - y0 + 1) > 64) {
      this.big.push(b);
      return;
    }
    for (let i = x0; i <= x1; i++) {
      for (let j = y0; j <= y1; j++) {
        const key = `${i},${j}`;
        const list = this.cells.get(key);
        if (list) list.push(b);
        else this.cells.set(key, [b]);
      }
    }
  }

  hits(b) {
    for (const o of this.big) if (overlaps(o, b)) return true;
    const [x0, x1, y0, y1] = this.range(b);
    for (let i = x0; i <= x1; i++) {
      for (let j = y0; j <= y1; j++) {
        const list = this.cells.get(`${i},${j}`);
        if (list) for (const o of list) if (overlaps(o, b)) return true;
      }
    }
    return false;
  }
}

/** Builds one scope's <g>; yields after each element so the caller can slice. */
function* drawScope(layout, ids, parentUnreachable, nested = false) {
  const g = s('g', { class: 'scope' });
  const edgeLayer = s('g', { class: 'edges' });
  const nodeLayer = s('g', { class: 'nodes' });
  const labelLayer = s('g', { class: 'edge-labels' });
  const boxes = new BoxGrid();
  for (const v of layout.nodes) boxes.add({ x: v.x, y: v.y, w: v.w, h: v.h });
  const outgoing = layout.nodes.map(() => []);

  for (const e of layout.edges) {
    const names = `${layout.nodes[e.from].name} → ${layout.nodes[e.to].name}`;
    const label = e.labels.join(' / ');
    outgoing[e.from].push(`${e.labels.join('/')} → ${layout.nodes[e.to].name}`);
    const cls = ['edge', `edge-${e.kind}`, e.back && 'edge-back', e.self && 'edge-self'].filter(Boolean).join(' ');
    const titleText = `${names}: ${e.full.length ? e.full.join(' | ') : label}${e.back || e.self ? ' (cycle)' : ''}`;
    let d;
    let anchor;
    if (e.self) {
      const { x, y1, y2 } = e.loop;
      d = `M${x},${y1} C${x + 38},${y1 - 14} ${x + 38},${y2 + 14} ${x + 2},${y2}`;
      anchor = { x: x + 30, y: (y1 + y2) / 2 };
    } else {
      d = cubicPath(e.points);
    }
    const marker = `url(#${ids.prefix}-arrow-${e.back || e.self ? 'back' : e.kind})`;
    edgeLayer.appendChild(s('path', { class: cls, d, 'marker-end': marker, dataset: { from: layout.nodes[e.from].name, to: layout.nodes[e.to].name } }, s('title', {}, titleText)));

    // Label placement: along the first segment, avoiding earlier labels and nodes.
    const w = label.length * LABEL_CHAR_W + 8;
    const hgt = 15;
    let box = null;
    if (e.self) {
      box = { x: anchor.x, y: anchor.y - hgt / 2, w, h: hgt };
    } else {
      const a = e.points[0];
      const b = e.points[1];
      for (const t of [0.5, 0.35, 0.65, 0.22, 0.78, 0.12, 0.88]) {
        const p = cubicAt(a, b, t);
        const cand = { x: p.x - w / 2, y: p.y - hgt / 2, w, h: hgt };
        if (!boxes.hits(cand)) {
          box = cand;
          break;
        }
      }
      if (!box) {
        const p = cubicAt(a, b, 0.5);
        box = { x: p.x + 4, y: p.y - hgt / 2, w, h: hgt };
      }
    }
    boxes.add(box);
    labelLayer.appendChild(s('g', { class: `edge-label label-${e.back || e.self ? 'back' : e.kind}` },
      s('rect', { x: box.x.toFixed(1), y: box.y.toFixed(1), width: box.w.toFixed(1), height: hgt, rx: 3 }),
      s('text', { x: (box.x + box.w / 2).toFixed(1), y: (box.y + hgt - 4).toFixed(1), 'text-anchor': 'middle' }, label),
      s('title', {}, titleText)));
    yield;
  }

  for (const v of layout.nodes) {
    const entry = !nested && layout.entries.has(v.id);
    const unreachable = parentUnreachable || (!nested && !layout.reachable.has(v.id));
    const parallel = !!v.inner;
    const out = outgoing[v.id];
    const description = [`task ${v.name}`, v.sub, entry ? 'entry task' : null, unreachable ? 'unreachable' : null,
      v.collapsed ? 'collapsed group: select it to expand' : null,
      out.length ? `next: ${out.join(', ')}` : 'no transitions'].filter(Boolean).join('; ');
    const cls = ['task-node', (parallel || v.collapsed) && 'task-parallel', v.collapsed && 'task-collapsed', entry && 'task-entry', unreachable && 'task-unreachable', `type-${v.type || 'action'}`].filter(Boolean).join(' ');
    const node = s('g', { class: cls, dataset: { task: v.name, path: v.path }, transform: `translate(${v.x.toFixed(1)},${v.y.toFixed(1)})`, tabindex: 0, role: 'button', 'aria-label': description });
    node.appendChild(s('title', {}, description));
    if (parallel) {
      node.appendChild(s('rect', { class: 'group-box', width: v.w, height: v.h, rx: 8 }));
      node.appendChild(s('text', { class: 'node-name', x: 12, y: 18 }, truncate(v.name, Math.floor((v.w - 120) / CHAR_W) + 8)));
      node.appendChild(s('text', { class: 'node-sub group-sub', x: v.w - 10, y: 18, 'text-anchor': 'end' }, `parallel · ${v.groupSize ?? v.inner.nodes.length}`));
      const inner = yield* drawScope(v.inner, ids, unreachable, true);
      inner.setAttribute('transform', `translate(${((v.w - (v.inner.width - 2 * MARGIN)) / 2 - MARGIN).toFixed(1)},${GROUP_HEAD - MARGIN})`);
      node.appendChild(inner);
    } else {
      node.appendChild(s('rect', { class: v.collapsed ? 'node-box collapsed-box' : 'node-box', width: v.w, height: v.h, rx: 6 }));
      const maxName = Math.floor((v.w - 20) / CHAR_W);
      const maxSub = Math.floor((v.w - 20) / SUB_CHAR_W);
      node.appendChild(s('text', { class: 'node-name', x: 10, y: 19 }, truncate(v.name, maxName)));
      node.appendChild(s('text', { class: 'node-sub', x: 10, y: 36 }, truncate(v.sub, maxSub)));
    }
    if (entry) {
      node.appendChild(s('g', { class: 'tag tag-entry', transform: 'translate(8,-9)' },
        s('rect', { width: 40, height: 14, rx: 7 }), s('text', { x: 20, y: 10.5, 'text-anchor': 'middle' }, 'entry')));
    }
    if (unreachable && !parentUnreachable) {
      node.appendChild(s('g', { class: 'tag tag-unreachable', transform: `translate(${v.w - 84},-9)` },
        s('rect', { width: 76, height: 14, rx: 7 }), s('text', { x: 38, y: 10.5, 'text-anchor': 'middle' }, 'unreachable')));
    }
    nodeLayer.appendChild(node);
    yield;
  }
  g.append(edgeLayer, nodeLayer, labelLayer);
  return g;
}

/** Builds the whole <svg>; yields while building; returns the element. */
function* buildSvg(layout, opts) {
  const prefix = `g${++graphSeq}`;
  const total = layout.taskCount ?? layout.nodes.length;
  const svg = s('svg', {
    class: 'task-graph',
    viewBox: `0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height)}`,
    width: Math.ceil(layout.width),
    height: Math.ceil(layout.height),
    role: 'group',
    'aria-label': `task graph with ${total} tasks`,
  });
  const defs = s('defs');
  for (const kind of ['succeeded', 'failed', 'always', 'expression', 'timeout', 'mixed', 'back']) {
    defs.appendChild(s('marker', { id: `${prefix}-arrow-${kind}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse', class: `arrowhead arrow-${kind}` },
      s('path', { d: 'M0,0 L10,5 L0,10 z' })));
  }
  svg.appendChild(defs);
  svg.appendChild(yield* drawScope(layout, { prefix }, false));
  svg.dataset.taskCount = String(total);
  if (opts.onSelect) {
    // One listener for the whole graph: the innermost task node wins.
    const select = (node) => opts.onSelect(node.dataset.task, node.dataset.path, node);
    svg.addEventListener('click', (ev) => {
      const node = ev.target instanceof Element ? ev.target.closest('.task-node') : null;
      if (node) select(node);
    });
    svg.addEventListener('keydown', (ev) => {
      const node = ev.target;
      if (node instanceof Element && node.classList.contains('task-node') && (ev.key === 'Enter' || ev.key === ' ')) {
        ev.preventDefault();
        select(node);
      }
    });
  }
  return svg;
}

function nextTurn() {
  // A message round trip: a task boundary without setTimeout's 4 ms clamp.
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => resolve();
    ch.port2.postMessage(0);
  });
}

/**
 * Draw a laid-out graph in slices of SLICE_MS, yielding to the page in
 * between. Resolves to the <svg>, or null once isCurrent() says false.
 * opts.onSelect(name, path, element) on click or Enter.
 */
export async function drawGraph(layout, opts = {}) {
  const steps = buildSvg(layout, opts);
  let sliceStart = performance.now();
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() - sliceStart > SLICE_MS) {
      await nextTurn();
      if (opts.isCurrent && !opts.isCurrent()) return null;
      sliceStart = performance.now();
    }
  }
}

/**
 * Lay out and draw synchronously on the calling thread (small graphs,
 * tests). opts.onSelect(name, task, element).
 */
export function renderGraph(definition, opts = {}) {
  const tasks = (definition && Array.isArray(definition.tasks)) ? definition.tasks : [];
  const layout = layoutGraph(tasks, opts.layout || {});
  const onSelect = opts.onSelect ? (name, path, el) => opts.onSelect(name, taskAtPath(tasks, path), el) : null;
  const steps = buildSvg(layout, { onSelect });
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Number of parallel groups (with tasks) anywhere in a task list. */
export function countGroups(tasks) {
  let n = 0;
  for (const t of Array.isArray(tasks) ? tasks : []) {
    if (!t || typeof t !== 'object' || t.type !== 'parallel' || !Array.isArray(t.tasks) || !t.tasks.length) continue;
    n += 1 + countGroups(t.tasks);
  }
  return n;
}
