// The task graph of a normalized workflow definition, laid out and drawn as
// SVG with no library: a layered (Sugiyama-style) layout.
//
//  1. cycles are broken by a depth-first search from the entry tasks; back
//     edges are reversed for layout and drawn dashed;
//  2. layers by longest path; edges spanning several layers get dummy nodes;
//  3. crossings reduced by barycenter ordering sweeps (down and up), keeping
//     the best ordering found;
//  4. x coordinates pulled towards neighbour barycenters while keeping the
//     order and a minimum separation; each layer is a row.
//
// Parallel tasks are groups: their children are laid out recursively inside
// the group box. Every task is one <g class="task-node" data-task="NAME">.

import { s } from './dom.js';

const NODE_H = 46;
const LAYER_GAP = 70;
const NODE_GAP = 30;
const DUMMY_W = 14;
const GROUP_PAD = 14;
const GROUP_HEAD = 28;
const MARGIN = 16;
const MIN_W = 120;
const MAX_W = 230;
const CHAR_W = 7.1; // estimate for 12.5px system sans bold
const SUB_CHAR_W = 6.3;
const LABEL_CHAR_W = 6.1;

let graphSeq = 0;

function truncate(text, max) {
  const chars = Array.from(String(text));
  return chars.length <= max ? chars.join('') : chars.slice(0, Math.max(1, max - 1)).join('') + '…';
}

/** Kind and label of a transition condition. */
export function classifyWhen(when) {
  if (when === undefined || when === null || String(when).trim() === '') return { kind: 'always', label: 'always' };
  const text = String(when).trim();
  const inner = text.replace(/^\{\{\s*/, '').replace(/\s*\}\}$/, '').trim();
  if (inner === 'succeeded()') return { kind: 'succeeded', label: 'succeeded' };
  if (inner === 'failed()') return { kind: 'failed', label: 'failed' };
  if (inner === 'timed_out()') return { kind: 'timeout', label: 'timed out' };
  return { kind: 'expression', label: truncate(inner, 26), full: text };
}

function subtitle(task) {
  const type = task.type || 'action';
  const bits = [];
  if (type === 'parallel') bits.push(`parallel · ${(task.tasks || []).length} tasks`);
  else if (type === 'workflow') bits.push(`workflow ${task.action || ''}`.trim());
  else bits.push(task.action || 'no action');
  if (task.with_items) bits.push('items');
  if (task.retry) bits.push(`retry ${task.retry.count ?? ''}`.trim());
  return bits.join(' · ');
}

function nodeWidth(name, sub) {
  const w = Math.max(name.length * CHAR_W, sub.length * SUB_CHAR_W) + 28;
  return Math.round(Math.max(MIN_W, Math.min(MAX_W, w)));
}

/** Edges, entries, reachability and back edges of one task list. */
export function analyze(tasks) {
  const index = new Map();
  tasks.forEach((t, i) => {
    if (t && typeof t.name === 'string' && !index.has(t.name)) index.set(t.name, i);
  });
  const edgeMap = new Map();
  tasks.forEach((t, i) => {
    for (const tr of (t && Array.isArray(t.next) ? t.next : [])) {
      const cls = classifyWhen(tr && tr.when);
      for (const target of (tr && Array.isArray(tr.do) ? tr.do : [])) {
        const j = index.get(target);
        if (j === undefined) continue;
        const key = `${i}>${j}`;
        const e = edgeMap.get(key);
        if (e) {
          if (!e.labels.includes(cls.label)) e.labels.push(cls.label);
          if (e.kind !== cls.kind) e.kind = 'mixed';
          if (cls.full) e.full.push(cls.full);
        } else {
          edgeMap.set(key, { from: i, to: j, kind: cls.kind, labels: [cls.label], full: cls.full ? [cls.full] : [], back: false, self: i === j });
        }
      }
    }
  });
  const edges = [...edgeMap.values()];
  const out = tasks.map(() => []);
  const inCount = tasks.map(() => 0);
  for (const e of edges) {
    out[e.from].push(e);
    if (!e.self) inCount[e.to]++;
  }
  const entries = tasks.map((_, i) => i).filter((i) => inCount[i] === 0);
  const reachable = new Set(entries);
  const queue = [...entries];
  while (queue.length) {
    const v = queue.shift();
    for (const e of out[v]) {
      if (!reachable.has(e.to)) {
        reachable.add(e.to);
        queue.push(e.to);
      }
    }
  }
  // Back edges: iterative DFS from the entries, then from anything left.
  const state = tasks.map(() => 0); // 0 new, 1 on stack, 2 done
  const roots = [...entries, ...tasks.map((_, i) => i)];
  for (const root of roots) {
    if (state[root] !== 0) continue;
    const stack = [[root, 0]];
    state[root] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const [v, k] = top;
      if (k < out[v].length) {
        top[1]++;
        const e = out[v][k];
        if (e.self) continue;
        if (state[e.to] === 1) e.back = true;
        else if (state[e.to] === 0) {
          state[e.to] = 1;
          stack.push([e.to, 0]);
        }
      } else {
        state[v] = 2;
        stack.pop();
      }
    }
  }
  return { index, edges, entries: new Set(entries), reachable };
}

function countCrossings(layers, downN, pos) {
  let total = 0;
  for (let l = 0; l < layers.length - 1; l++) {
    const segs = [];
    for (const v of layers[l]) for (const w of downN[v]) segs.push([pos[v], pos[w]]);
    for (let a = 0; a < segs.length; a++) {
      for (let b = a + 1; b < segs.length; b++) {
        if ((segs[a][0] - segs[b][0]) * (segs[a][1] - segs[b][1]) < 0) total++;
      }
    }
  }
  return total;
}

/**
 * Layout of one scope (a task list). Returns {width, height, nodes, edges}
 * with node boxes (x, y, w, h) and edge point lists, in scope coordinates.
 */
export function layoutScope(tasks, depth = 0) {
  tasks = Array.isArray(tasks) ? tasks.filter((t) => t && typeof t === 'object') : [];
  const info = analyze(tasks);
  const nodes = tasks.map((task, i) => {
    const name = typeof task.name === 'string' ? task.name : `#${i + 1}`;
    const sub = subtitle(task);
    const node = { id: i, name, task, sub, dummy: false, extraRight: 0 };
    if (task.type === 'parallel' && Array.isArray(task.tasks) && task.tasks.length && depth < 6) {
      node.inner = layoutScope(task.tasks, depth + 1);
      node.w = Math.max(node.inner.width + 2 * GROUP_PAD - 2 * MARGIN, nodeWidth(name, sub) + 40);
      node.h = node.inner.height + GROUP_HEAD + GROUP_PAD - 2 * MARGIN;
    } else {
      node.w = nodeWidth(name, sub);
      node.h = NODE_H;
    }
    return node;
  });
  for (const e of info.edges) if (e.self) nodes[e.from].extraRight = 44;

  // Layout edges (u above v), with back edges reversed.
  const n = nodes.length;
  const succ = nodes.map(() => []);
  const indeg = nodes.map(() => 0);
  const dag = [];
  for (const e of info.edges) {
    if (e.self) continue;
    const [u, v] = e.back ? [e.to, e.from] : [e.from, e.to];
    dag.push({ u, v, edge: e });
    succ[u].push(v);
    indeg[v]++;
  }
  // Longest-path layering (Kahn order).
  const layer = nodes.map(() => 0);
  const queue = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
  const deg = [...indeg];
  while (queue.length) {
    const u = queue.shift();
    for (const v of succ[u]) {
      layer[v] = Math.max(layer[v], layer[u] + 1);
      if (--deg[v] === 0) queue.push(v);
    }
  }
  // Pull sources without predecessors down next to their first successor.
  for (let i = 0; i < n; i++) {
    if (indeg[i] === 0 && succ[i].length && !info.entries.has(i)) {
      const minSucc = Math.min(...succ[i].map((v) => layer[v]));
      layer[i] = Math.max(layer[i], minSucc - 1);
    }
  }
  const layerCount = n ? Math.max(...layer) + 1 : 0;

  // Dummy nodes.
  const all = [...nodes];
  const upN = all.map(() => []);
  const downN = all.map(() => []);
  const link = (a, b) => {
    downN[a].push(b);
    upN[b].push(a);
  };
  for (const d of dag) {
    const chain = [d.u];
    for (let l = layer[d.u] + 1; l < layer[d.v]; l++) {
      const id = all.length;
      all.push({ id, dummy: true, w: DUMMY_W, h: 0, extraRight: 0 });
      layer[id] = l;
      upN.push([]);
      downN.push([]);
      chain.push(id);
    }
    chain.push(d.v);
    for (let k = 0; k < chain.length - 1; k++) link(chain[k], chain[k + 1]);
    d.edge.chain = chain;
  }
  const layers = Array.from({ length: layerCount }, () => []);
  for (const v of all) layers[layer[v.id]].push(v.id);

  // Barycenter ordering.
  const pos = new Array(all.length).fill(0);
  const setPos = () => layers.forEach((ids) => ids.forEach((v, i) => (pos[v] = i)));
  setPos();
  let best = layers.map((ids) => [...ids]);
  let bestCross = countCrossings(layers, downN, pos);
  for (let iter = 0; iter < 16 && bestCross > 0; iter++) {
    const down = iter % 2 === 0;
    const order = down ? [...Array(layerCount).keys()].slice(1) : [...Array(layerCount).keys()].reverse().slice(1);
    for (const l of order) {
      const nb = down ? upN : downN;
      const bc = new Map();
      for (const v of layers[l]) {
        const ns = nb[v];
        bc.set(v, ns.length ? ns.reduce((acc, w) => acc + pos[w], 0) / ns.length : pos[v]);
      }
      layers[l].sort((a, b) => bc.get(a) - bc.get(b) || pos[a] - pos[b]);
      layers[l].forEach((v, i) => (pos[v] = i));
    }
    const c = countCrossings(layers, downN, pos);
    if (c < bestCross) {
      bestCross = c;
      best = layers.map((ids) => [...ids]);
    }
  }
  for (let l = 0; l < layerCount; l++) layers[l] = best[l];
  setPos();

  // Rows.
  const rowTop = [];
  const rowH = [];
  let y = MARGIN;
  for (let l = 0; l < layerCount; l++) {
    const hMax = Math.max(NODE_H, ...layers[l].map((v) => all[v].h || 0));
    rowTop[l] = y;
    rowH[l] = hMax;
    y += hMax + LAYER_GAP;
  }
  const height = layerCount ? y - LAYER_GAP + MARGIN : 2 * MARGIN + NODE_H;

  // X coordinates (centres).
  const cx = new Array(all.length).fill(0);
  const sep = (a, b) => all[a].w / 2 + (all[a].extraRight || 0) + all[b].w / 2 + (all[a].dummy || all[b].dummy ? 10 : NODE_GAP);
  for (const ids of layers) {
    let x = 0;
    ids.forEach((v, i) => {
      if (i > 0) x += sep(ids[i - 1], v);
      cx[v] = x;
    });
    const shift = -x / 2;
    ids.forEach((v) => (cx[v] += shift));
  }
  const place = (ids, desired) => {
    const k = ids.length;
    if (!k) return;
    const xl = new Array(k);
    const xr = new Array(k);
    xl[0] = desired[0];
    for (let i = 1; i < k; i++) xl[i] = Math.max(desired[i], xl[i - 1] + sep(ids[i - 1], ids[i]));
    xr[k - 1] = desired[k - 1];
    for (let i = k - 2; i >= 0; i--) xr[i] = Math.min(desired[i], xr[i + 1] - sep(ids[i], ids[i + 1]));
    const x = xl.map((v, i) => (v + xr[i]) / 2);
    for (let i = 1; i < k; i++) x[i] = Math.max(x[i], x[i - 1] + sep(ids[i - 1], ids[i]));
    ids.forEach((v, i) => (cx[v] = x[i]));
  };
  // Weighted barycenter: a dummy follows its chain strongly, so long edges
  // run straight instead of wiggling between layers.
  const weight = (v, w) => (all[v].dummy && all[w].dummy ? 8 : all[v].dummy || all[w].dummy ? 2 : 1);
  const relax = (l, useUp, useDown) => {
    const ids = layers[l];
    const desired = ids.map((v) => {
      const ns = [...(useUp ? upN[v] : []), ...(useDown ? downN[v] : [])];
      if (!ns.length) return cx[v];
      let sum = 0;
      let total = 0;
      for (const w of ns) {
        const k = weight(v, w);
        sum += k * cx[w];
        total += k;
      }
      return sum / total;
    });
    place(ids, desired);
  };
  for (let iter = 0; iter < 8; iter++) {
    for (let l = 1; l < layerCount; l++) relax(l, true, false);
    for (let l = layerCount - 2; l >= 0; l--) relax(l, false, true);
  }
  for (let l = 0; l < layerCount; l++) relax(l, true, true);

  // Straighten dummy chains where the neighbours in each layer leave room.
  const posInLayer = new Map();
  layers.forEach((ids) => ids.forEach((v, i) => posInLayer.set(v, i)));
  const fits = (v, x) => {
    const ids = layers[layer[v]];
    const i = posInLayer.get(v);
    if (i > 0 && x < cx[ids[i - 1]] + sep(ids[i - 1], v)) return false;
    if (i < ids.length - 1 && x > cx[ids[i + 1]] - sep(v, ids[i + 1])) return false;
    return true;
  };
  for (const d of dag) {
    const dummies = (d.edge.chain || []).filter((v) => all[v].dummy);
    if (dummies.length < 2) continue;
    const xs = dummies.map((v) => cx[v]).sort((a, b) => a - b);
    const candidates = [xs[Math.floor(xs.length / 2)], ...xs];
    for (const x of candidates) {
      if (dummies.every((v) => fits(v, x))) {
        dummies.forEach((v) => (cx[v] = x));
        break;
      }
    }
  }

  let minX = Infinity;
  let maxX = -Infinity;
  for (const v of all) {
    minX = Math.min(minX, cx[v.id] - v.w / 2);
    maxX = Math.max(maxX, cx[v.id] + v.w / 2 + (v.extraRight || 0));
  }
  if (!Number.isFinite(minX)) {
    minX = 0;
    maxX = MIN_W;
  }
  for (const v of all) {
    v.cx = cx[v.id] - minX + MARGIN;
    v.layer = layer[v.id];
    if (v.dummy) {
      v.top = rowTop[v.layer];
      v.bottom = rowTop[v.layer] + rowH[v.layer];
    } else {
      v.x = v.cx - v.w / 2;
      v.y = rowTop[v.layer] + (rowH[v.layer] - v.h) / 2;
    }
  }
  const width = maxX - minX + 2 * MARGIN;

  // Ports: spread attachments along the top and bottom of each node.
  const tops = nodes.map(() => []);
  const bottoms = nodes.map(() => []);
  for (const e of info.edges) {
    if (e.self) continue;
    const chain = e.chain;
    // chain runs downwards; first element attaches at its bottom, last at its top
    const first = chain[0];
    const last = chain[chain.length - 1];
    const afterFirst = all[chain[1]];
    const beforeLast = all[chain[chain.length - 2]];
    bottoms[first].push({ e, toward: afterFirst.cx });
    tops[last].push({ e, toward: beforeLast.cx });
  }
  const portX = (node, list, which) => {
    list.sort((a, b) => a.toward - b.toward);
    const span = Math.min(node.w * 0.7, 26 * (list.length - 1));
    list.forEach((p, i) => {
      const x = list.length === 1 ? node.cx : node.cx - span / 2 + (span * i) / (list.length - 1);
      p.e[which === 'bottom' ? 'xBottom' : 'xTop'] = x;
    });
  };
  nodes.forEach((node, i) => {
    portX(node, bottoms[i], 'bottom');
    portX(node, tops[i], 'top');
  });
  for (const e of info.edges) {
    if (e.self) {
      const v = nodes[e.from];
      e.points = null;
      e.loop = { x: v.x + v.w, y1: v.y + v.h * 0.3, y2: v.y + v.h * 0.7 };
      continue;
    }
    const chain = e.chain;
    const pts = [];
    const first = all[chain[0]];
    const last = all[chain[chain.length - 1]];
    pts.push({ x: e.xBottom, y: first.y + first.h });
    for (let k = 1; k < chain.length - 1; k++) {
      const d = all[chain[k]];
      pts.push({ x: d.cx, y: d.top });
      pts.push({ x: d.cx, y: d.bottom });
    }
    pts.push({ x: e.xTop, y: last.y });
    e.points = e.back ? pts.reverse() : pts;
  }

  return {
    width: Math.max(width, MIN_W + 2 * MARGIN),
    height,
    nodes,
    edges: info.edges,
    entries: info.entries,
    reachable: info.reachable,
    crossings: bestCross,
  };
}

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

function drawScope(layout, ids, opts, parentUnreachable, nested = false) {
  const g = s('g', { class: 'scope' });
  const edgeLayer = s('g', { class: 'edges' });
  const nodeLayer = s('g', { class: 'nodes' });
  const labelLayer = s('g', { class: 'edge-labels' });
  const labelBoxes = layout.nodes.map((v) => ({ x: v.x, y: v.y, w: v.w, h: v.h }));

  for (const e of layout.edges) {
    const names = `${layout.nodes[e.from].name} → ${layout.nodes[e.to].name}`;
    const label = e.labels.join(' / ');
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
        if (!labelBoxes.some((o) => overlaps(o, cand))) {
          box = cand;
          break;
        }
      }
      if (!box) {
        const p = cubicAt(a, b, 0.5);
        box = { x: p.x + 4, y: p.y - hgt / 2, w, h: hgt };
      }
    }
    labelBoxes.push(box);
    labelLayer.appendChild(s('g', { class: `edge-label label-${e.back || e.self ? 'back' : e.kind}` },
      s('rect', { x: box.x.toFixed(1), y: box.y.toFixed(1), width: box.w.toFixed(1), height: hgt, rx: 3 }),
      s('text', { x: (box.x + box.w / 2).toFixed(1), y: (box.y + hgt - 4).toFixed(1), 'text-anchor': 'middle' }, label),
      s('title', {}, titleText)));
  }

  for (const v of layout.nodes) {
    const entry = !nested && layout.entries.has(v.id);
    const unreachable = parentUnreachable || (!nested && !layout.reachable.has(v.id));
    const parallel = !!v.inner;
    const outgoing = layout.edges.filter((e) => e.from === v.id).map((e) => `${e.labels.join('/')} → ${layout.nodes[e.to].name}`);
    const description = [`task ${v.name}`, v.sub, entry ? 'entry task' : null, unreachable ? 'unreachable' : null,
      outgoing.length ? `next: ${outgoing.join(', ')}` : 'no transitions'].filter(Boolean).join('; ');
    const cls = ['task-node', parallel && 'task-parallel', entry && 'task-entry', unreachable && 'task-unreachable', `type-${v.task.type || 'action'}`].filter(Boolean).join(' ');
    const node = s('g', { class: cls, dataset: { task: v.name }, transform: `translate(${v.x.toFixed(1)},${v.y.toFixed(1)})`, tabindex: 0, role: 'button', 'aria-label': description });
    node.appendChild(s('title', {}, description));
    if (parallel) {
      node.appendChild(s('rect', { class: 'group-box', width: v.w, height: v.h, rx: 8 }));
      node.appendChild(s('text', { class: 'node-name', x: 12, y: 18 }, truncate(v.name, Math.floor((v.w - 120) / CHAR_W) + 8)));
      node.appendChild(s('text', { class: 'node-sub group-sub', x: v.w - 10, y: 18, 'text-anchor': 'end' }, `parallel · ${v.task.tasks.length}`));
      const inner = drawScope(v.inner, ids, opts, unreachable, true);
      inner.setAttribute('transform', `translate(${((v.w - (v.inner.width - 2 * MARGIN)) / 2 - MARGIN).toFixed(1)},${GROUP_HEAD - MARGIN})`);
      node.appendChild(inner);
    } else {
      node.appendChild(s('rect', { class: 'node-box', width: v.w, height: v.h, rx: 6 }));
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
    if (opts.onSelect) {
      const select = (ev) => {
        ev.stopPropagation();
        opts.onSelect(v.name, v.task, node);
      };
      node.addEventListener('click', select);
      node.addEventListener('keydown', (ev) => {
        if (ev.target === node && (ev.key === 'Enter' || ev.key === ' ')) {
          ev.preventDefault();
          select(ev);
        }
      });
    }
    nodeLayer.appendChild(node);
  }
  g.append(edgeLayer, nodeLayer, labelLayer);
  return g;
}

/**
 * Draw the task graph of a normalized definition. Returns an <svg> element
 * with data-task-count. opts.onSelect(name, task, element) on click/Enter.
 */
export function renderGraph(definition, opts = {}) {
  const tasks = (definition && Array.isArray(definition.tasks)) ? definition.tasks : [];
  const layout = layoutScope(tasks);
  const prefix = `g${++graphSeq}`;
  const svg = s('svg', {
    class: 'task-graph',
    viewBox: `0 0 ${Math.ceil(layout.width)} ${Math.ceil(layout.height)}`,
    width: Math.ceil(layout.width),
    height: Math.ceil(layout.height),
    role: 'group',
    'aria-label': `task graph with ${countTasks(tasks)} tasks`,
  });
  const defs = s('defs');
  for (const kind of ['succeeded', 'failed', 'always', 'expression', 'timeout', 'mixed', 'back']) {
    defs.appendChild(s('marker', { id: `${prefix}-arrow-${kind}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse', class: `arrowhead arrow-${kind}` },
      s('path', { d: 'M0,0 L10,5 L0,10 z' })));
  }
  svg.appendChild(defs);
  svg.appendChild(drawScope(layout, { prefix }, opts, false));
  svg.dataset.taskCount = String(countTasks(tasks));
  return svg;
}

export function countTasks(tasks) {
  let n = 0;
  for (const t of tasks || []) {
    if (!t || typeof t !== 'object') continue;
    n++;
    if (t.type === 'parallel' && Array.isArray(t.tasks)) n += countTasks(t.tasks);
  }
  return n;
}
