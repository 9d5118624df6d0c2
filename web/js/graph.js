// The task graph of a normalized workflow definition, drawn as SVG with no
// library. The layout (web/js/layout.js, pure) runs in a module Web Worker
// (web/js/graph-worker.js, served from the same versioned /ui/ path), or on
// the main thread if a worker cannot start; the SVG is then built in slices
// of about 12 ms so the page keeps answering input while a big graph is
// drawn. Every task is one <g class="task-node" data-task="NAME"
// data-path="I/J">.

import { s } from './dom.js';
import {
  analyze, layoutScope, layoutGraph, classifyWhen, countTasks, reduceTasks, shapeKey, taskAtPath, stripTasks, truncate, placeLabels, BoxGrid,
  MARGIN, GROUP_HEAD, CHAR_W, SUB_CHAR_W, COLLAPSE_OVER,
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

/** Past this many tasks only the part of the graph near the view is in the DOM
 * (drawing 400 whole tasks blocks the page ~0.3 s: docs/PERFORMANCE.md). */
export const VIRTUAL_OVER = 200;

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

function edgePath(e) {
  if (e.self) {
    const { x, y1, y2 } = e.loop;
    return `M${x},${y1} C${x + 38},${y1 - 14} ${x + 38},${y2 + 14} ${x + 2},${y2}`;
  }
  return cubicPath(e.points);
}

/** "label → target" of each node's outgoing edges, for its description. */
function outgoingOf(layout) {
  const outgoing = layout.nodes.map(() => []);
  for (const e of layout.edges) outgoing[e.from].push(`${e.labels.join('/')} → ${layout.nodes[e.to].name}`);
  return outgoing;
}

/** The path and the label of one edge. */
function edgeParts(layout, e, ids) {
  if (!e.label) placeLabels(layout);
  const names = `${layout.nodes[e.from].name} → ${layout.nodes[e.to].name}`;
  const cls = ['edge', `edge-${e.kind}`, e.back && 'edge-back', e.self && 'edge-self'].filter(Boolean).join(' ');
  const label = e.label;
  const titleText = `${names}: ${e.full.length ? e.full.join(' | ') : label.text}${e.back || e.self ? ' (cycle)' : ''}`;
  const marker = `url(#${ids.prefix}-arrow-${e.back || e.self ? 'back' : e.kind})`;
  const path = s('path', { class: cls, d: edgePath(e), 'marker-end': marker, dataset: { from: layout.nodes[e.from].name, to: layout.nodes[e.to].name } }, s('title', {}, titleText));
  const tag = s('g', { class: `edge-label label-${e.back || e.self ? 'back' : e.kind}` },
    s('rect', { x: label.x.toFixed(1), y: label.y.toFixed(1), width: label.w.toFixed(1), height: label.h, rx: 3 }),
    s('text', { x: (label.x + label.w / 2).toFixed(1), y: (label.y + label.h - 4).toFixed(1), 'text-anchor': 'middle' }, label.text),
    s('title', {}, titleText));
  return [path, tag];
}

/** One task's <g> (a group with its inner scope); yields while building a group. */
function* nodePart(layout, v, ids, outgoing, parentUnreachable, nested) {
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
  return node;
}

function drain(steps) {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Builds one whole scope's <g>; yields after each element so the caller can slice. */
function* drawScope(layout, ids, parentUnreachable, nested = false) {
  const g = s('g', { class: 'scope' });
  const edgeLayer = s('g', { class: 'edges' });
  const nodeLayer = s('g', { class: 'nodes' });
  const labelLayer = s('g', { class: 'edge-labels' });
  const outgoing = outgoingOf(layout);
  for (const e of layout.edges) {
    const [path, tag] = edgeParts(layout, e, ids);
    edgeLayer.appendChild(path);
    labelLayer.appendChild(tag);
    yield;
  }
  for (const v of layout.nodes) {
    nodeLayer.appendChild(yield* nodePart(layout, v, ids, outgoing, parentUnreachable, nested));
    yield;
  }
  g.append(edgeLayer, nodeLayer, labelLayer);
  return g;
}

function boundsOfEdge(e) {
  if (e.self) {
    const { x, y1, y2 } = e.loop;
    return { x, y: y1 - 14, w: 40, h: y2 - y1 + 28 };
  }
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const p of e.points) {
    x0 = Math.min(x0, p.x);
    x1 = Math.max(x1, p.x);
    y0 = Math.min(y0, p.y);
    y1 = Math.max(y1, p.y);
  }
  return { x: x0 - 8, y: y0 - 8, w: x1 - x0 + 16, h: y1 - y0 + 16 };
}

function union(a, b) {
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y };
}

/**
 * A big graph's top scope, drawn near the viewport only: tasks and edges
 * are indexed in a grid; attach(scroller) draws what is within one screen
 * of the visible part and keeps that window up to date on scroll and
 * resize. Nodes stay <g class="task-node">, edges <path class="edge">.
 */
class VirtualScope {
  constructor(svg, layout, ids) {
    this.svg = svg;
    this.layout = layout;
    this.ids = ids;
    this.outgoing = outgoingOf(layout);
    this.edgeLayer = s('g', { class: 'edges' });
    this.nodeLayer = s('g', { class: 'nodes' });
    this.labelLayer = s('g', { class: 'edge-labels' });
    const g = s('g', { class: 'scope scope-virtual' }, this.edgeLayer, this.nodeLayer, this.labelLayer);
    svg.appendChild(g);
    this.grid = new BoxGrid(512);
    layout.nodes.forEach((v, i) => this.grid.add({ x: v.x, y: v.y - 10, w: v.w + (v.extraRight || 0), h: v.h + 10 }, `n${i}`));
    layout.edges.forEach((e, i) => {
      if (!e.label) placeLabels(layout);
      this.grid.add(union(boundsOfEdge(e), e.label), `e${i}`);
    });
    this.live = new Map();
    this.selectedPath = null;
    this.safe = null;
    this.frame = 0;
    this.onScroll = () => {
      if (!this.frame) {
        this.frame = requestAnimationFrame(() => {
          this.frame = 0;
          this.update();
        });
      }
    };
  }

  attach(scroller) {
    this.detach();
    this.scroller = scroller;
    scroller.addEventListener('scroll', this.onScroll, { passive: true });
    window.addEventListener('resize', this.onScroll);
    window.addEventListener('scroll', this.onScroll, { passive: true });
    this.update();
  }

  detach() {
    if (!this.scroller) return;
    this.scroller.removeEventListener('scroll', this.onScroll);
    window.removeEventListener('resize', this.onScroll);
    window.removeEventListener('scroll', this.onScroll);
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.scroller = null;
  }

  /** The visible part of the graph, in graph coordinates (null if not shown). */
  visible() {
    if (!this.scroller || !this.svg.isConnected) return null;
    const r = this.svg.getBoundingClientRect();
    const vr = this.scroller.getBoundingClientRect();
    if (!r.width || !r.height) return null;
    const scale = r.width / this.layout.width;
    const top = Math.max(vr.top, 0);
    const bottom = Math.min(vr.bottom, window.innerHeight || vr.bottom);
    return { x: (vr.left - r.left) / scale, y: (top - r.top) / scale, w: vr.width / scale, h: Math.max(0, bottom - top) / scale };
  }

  update() {
    const vis = this.visible();
    if (!vis) return;
    const s0 = this.safe;
    if (s0 && vis.x >= s0.x && vis.y >= s0.y && vis.x + vis.w <= s0.x + s0.w && vis.y + vis.h <= s0.y + s0.h) return;
    const grow = (k) => ({ x: vis.x - k * vis.w, y: vis.y - k * vis.h, w: vis.w * (1 + 2 * k), h: vis.h * (1 + 2 * k) });
    this.safe = grow(0.5);
    const want = this.grid.query(grow(1));
    for (const [key, els] of this.live) {
      if (want.has(key)) continue;
      for (const el of els) el.remove();
      this.live.delete(key);
    }
    for (const key of want) {
      if (this.live.has(key)) continue;
      const i = Number(key.slice(1));
      if (key[0] === 'n') {
        const v = this.layout.nodes[i];
        const el = drain(nodePart(this.layout, v, this.ids, this.outgoing, false, false));
        // The selection survives the node leaving the window and coming back.
        if (this.selectedPath && v.path === this.selectedPath) el.classList.add('selected');
        this.nodeLayer.appendChild(el);
        this.live.set(key, [el]);
      } else {
        const [path, tag] = edgeParts(this.layout, this.layout.edges[i], this.ids);
        this.edgeLayer.appendChild(path);
        this.labelLayer.appendChild(tag);
        this.live.set(key, [path, tag]);
      }
    }
    this.svg.dataset.drawnNodes = String([...this.live.keys()].filter((k) => k[0] === 'n').length);
  }
}

/**
 * The whole graph at a glance (Fit to frame on a big graph): boxes and
 * edges only, no text, no labels; a task's name is its tooltip.
 */
function* buildOverview(layout) {
  const svg = s('svg', {
    class: 'task-graph task-overview',
    viewBox: `0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height)}`,
    width: Math.ceil(layout.width),
    height: Math.ceil(layout.height),
    role: 'img',
    'aria-label': `overview of a task graph with ${layout.taskCount ?? layout.nodes.length} tasks`,
  });
  const edges = s('g', { class: 'edges' });
  const nodes = s('g', { class: 'nodes' });
  for (const e of layout.edges) {
    edges.appendChild(s('path', { class: ['edge', `edge-${e.kind}`, e.back && 'edge-back'].filter(Boolean).join(' '), d: edgePath(e) }));
    yield;
  }
  for (const v of layout.nodes) {
    const cls = ['task-node', `type-${v.type || 'action'}`, layout.entries.has(v.id) && 'task-entry', !layout.reachable.has(v.id) && 'task-unreachable'].filter(Boolean).join(' ');
    nodes.appendChild(s('g', { class: cls, transform: `translate(${v.x.toFixed(1)},${v.y.toFixed(1)})` },
      s('rect', { class: v.inner ? 'group-box' : 'node-box', width: v.w, height: v.h, rx: 6 }), s('title', {}, v.name)));
    yield;
  }
  svg.append(edges, nodes);
  return svg;
}

/** Builds the <svg>; yields while building; returns the element. */
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
  const virtual = opts.virtual ?? total > VIRTUAL_OVER;
  if (virtual) {
    svg.virtual = new VirtualScope(svg, layout, { prefix });
    svg.dataset.virtual = 'true';
  } else {
    svg.appendChild(yield* drawScope(layout, { prefix }, false));
  }
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
 * opts.onSelect(name, path, element) on click or Enter; opts.virtual
 * (default: past VIRTUAL_OVER tasks): the svg then has .virtual, whose
 * attach(scroller) draws the part near the view; opts.overview: boxes and
 * edges only.
 */
export async function drawGraph(layout, opts = {}) {
  const steps = opts.overview ? buildOverview(layout) : buildSvg(layout, opts);
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
  return drain(buildSvg(layout, { onSelect, virtual: false }));
}

/**
 * A graph wider than its frame opens scrolled to its first entry task (or
 * first task), not to its left edge.
 */
export function scrollToEntry(scroller, svg, layout) {
  if (!scroller || !svg || layout.width <= scroller.clientWidth) return;
  const first = [...layout.entries][0] ?? 0;
  const v = layout.nodes[first];
  if (!v) return;
  const r = svg.getBoundingClientRect();
  const vr = scroller.getBoundingClientRect();
  const scale = r.width / layout.width || 1;
  const left = r.left - vr.left + scroller.scrollLeft;
  scroller.scrollLeft = Math.max(0, left + (v.x + v.w / 2) * scale - scroller.clientWidth / 2);
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
