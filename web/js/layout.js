// The layout of a workflow's task graph: pure JavaScript with no DOM, so it
// runs in a Web Worker (web/js/graph-worker.js), on the main thread as a
// fallback, and under `node --test`. A layered (Sugiyama-style) layout in
// O((V + E) log V) per sweep, with a bounded number of sweeps:
//
//  1. cycles are broken by an iterative depth-first search from the entry
//     tasks; back edges are reversed for layout (and drawn dashed);
//  2. layers by longest path in topological (Kahn) order; edges spanning
//     several layers get dummy nodes;
//  3. crossings reduced by barycenter ordering sweeps (down and up; 16 for
//     graphs up to SMALL_GRAPH tasks, 4 beyond), keeping the best ordering;
//     crossings between two layers are counted as inversions with a Fenwick
//     tree, O(E log V) instead of the pairwise O(E²);
//  4. x coordinates pulled towards neighbour barycenters while keeping the
//     order and a minimum separation (linear per layer, 8 rounds, 4 past
//     SMALL_GRAPH tasks); the sideways drift of long graphs is removed;
//     each layer is a row.
//
// Parallel tasks are groups laid out recursively inside their box. Past
// COLLAPSE_OVER tasks, groups are collapsed by default (one box each) and
// expanded on demand (`expanded`: a set of group paths).

export const NODE_H = 46;
export const LAYER_GAP = 70;
export const NODE_GAP = 30;
export const DUMMY_W = 14;
export const GROUP_PAD = 14;
export const GROUP_HEAD = 28;
export const MARGIN = 16;
export const MIN_W = 120;
export const MAX_W = 230;
export const CHAR_W = 7.1; // estimate for 12.5px system sans bold
export const SUB_CHAR_W = 6.3;
export const LABEL_CHAR_W = 6.1;

/** Up to this many tasks, 16 ordering sweeps (the look of small graphs); beyond, 4. */
export const SMALL_GRAPH = 500;
/** Past this many tasks, parallel groups are collapsed until expanded. */
export const COLLAPSE_OVER = 500;
/** Nesting deeper than this is drawn as a plain box. */
const MAX_DEPTH = 6;
/** Dummy nodes allowed: this many per task and edge (at least DUMMY_MIN_BUDGET). */
const DUMMY_BUDGET_PER_ITEM = 2;
const DUMMY_MIN_BUDGET = 3000;
/** Drift removal on big graphs: half the moving-average window, in layers. */
const DRIFT_WINDOW = 12;
/** Straightening a long edge tries the median and at most this many more x positions. */
const STRAIGHTEN_CANDIDATES = 8;

export function truncate(text, max) {
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

export function subtitle(task) {
  const type = task.type || 'action';
  const bits = [];
  if (type === 'parallel') bits.push(`parallel · ${(Array.isArray(task.tasks) ? task.tasks : []).length} tasks`);
  else if (type === 'workflow') bits.push(`workflow ${task.action || ''}`.trim());
  else bits.push(task.action || 'no action');
  if (task.with_items) bits.push('items');
  if (task.retry) bits.push(`retry ${task.retry.count ?? ''}`.trim());
  return bits.join(' · ');
}

export function nodeWidth(name, sub) {
  const w = Math.max(name.length * CHAR_W, sub.length * SUB_CHAR_W) + 28;
  return Math.round(Math.max(MIN_W, Math.min(MAX_W, w)));
}

export function countTasks(tasks) {
  let n = 0;
  for (const t of Array.isArray(tasks) ? tasks : []) {
    if (!t || typeof t !== 'object') continue;
    n++;
    if (t.type === 'parallel' && Array.isArray(t.tasks)) n += countTasks(t.tasks);
  }
  return n;
}

/**
 * What the drawing shows of each task and nothing else: name, type,
 * subtitle fields, transitions, nested tasks. Sent to the worker (smaller
 * to copy than the definition) and, as JSON, the graph's shape key: the
 * Validate page redraws only when it changes.
 */
export function reduceTasks(tasks) {
  const out = [];
  for (const t of Array.isArray(tasks) ? tasks : []) {
    if (!t || typeof t !== 'object') continue;
    const r = { name: t.name, type: t.type, action: t.action };
    if (t.with_items) r.with_items = true;
    if (t.retry) r.retry = { count: t.retry.count };
    if (Array.isArray(t.next)) {
      r.next = t.next.map((tr) => ({
        when: tr && tr.when,
        do: tr && Array.isArray(tr.do) ? tr.do.filter((x) => typeof x === 'string') : [],
      }));
    }
    if (Array.isArray(t.tasks)) r.tasks = reduceTasks(t.tasks);
    out.push(r);
  }
  return out;
}

/** The graph's shape key (see reduceTasks). */
export function shapeKey(tasks) {
  return JSON.stringify(reduceTasks(tasks));
}

/** The task at a node path ("2" or "2/0/1": indices among object tasks). */
export function taskAtPath(tasks, path) {
  let list = Array.isArray(tasks) ? tasks : [];
  let task = null;
  for (const part of String(path).split('/')) {
    const objects = list.filter((t) => t && typeof t === 'object');
    task = objects[Number(part)] || null;
    if (!task) return null;
    list = Array.isArray(task.tasks) ? task.tasks : [];
  }
  return task;
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
  const n = tasks.length;
  const out = Array.from({ length: n }, () => []);
  const inCount = new Int32Array(n);
  for (const e of edges) {
    out[e.from].push(e);
    if (!e.self) inCount[e.to]++;
  }
  const entries = [];
  for (let i = 0; i < n; i++) if (inCount[i] === 0) entries.push(i);
  const reachable = new Set(entries);
  const queue = [...entries];
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head];
    for (const e of out[v]) {
      if (!reachable.has(e.to)) {
        reachable.add(e.to);
        queue.push(e.to);
      }
    }
  }
  // Back edges: iterative DFS from the entries, then from anything left.
  const state = new Uint8Array(n); // 0 new, 1 on stack, 2 done
  const visit = (root) => {
    if (state[root] !== 0) return;
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
  };
  for (const root of entries) visit(root);
  for (let i = 0; i < n; i++) visit(i);
  return { index, edges, entries: new Set(entries), reachable };
}

/**
 * Crossings between consecutive layers: for each pair of layers, the
 * inversions of the lower ends when edges are sorted by their upper end,
 * counted with a Fenwick tree. Edges sharing an end do not cross.
 */
export function countCrossings(layers, downN, pos) {
  let total = 0;
  let tree = new Int32Array(16);
  const single = [0];
  for (let l = 0; l < layers.length - 1; l++) {
    const m = layers[l + 1].length;
    if (tree.length < m + 1) tree = new Int32Array(2 * (m + 1));
    else tree.fill(0, 0, m + 1);
    let inserted = 0;
    for (const v of layers[l]) {
      const down = downN[v];
      if (!down.length) continue;
      let ends;
      if (down.length === 1) {
        single[0] = pos[down[0]];
        ends = single;
      } else {
        ends = down.map((w) => pos[w]).sort((a, b) => a - b);
      }
      for (const p of ends) {
        // inserted ends at positions > p cross this edge
        let atMost = 0;
        for (let i = p + 1; i > 0; i -= i & -i) atMost += tree[i];
        total += inserted - atMost;
        for (let i = p + 1; i <= m; i += i & -i) tree[i]++;
        inserted++;
      }
    }
  }
  return total;
}

/**
 * Layout of one scope (a task list). Returns {width, height, nodes, edges,
 * entries, reachable, crossings} with node boxes (x, y, w, h) and edge
 * point lists, in scope coordinates. opts: {collapse: bool, expanded:
 * Set of group paths}; path: this scope's group path ('' at the top).
 */
export function layoutScope(tasks, depth = 0, opts = {}, path = '') {
  tasks = Array.isArray(tasks) ? tasks.filter((t) => t && typeof t === 'object') : [];
  const info = analyze(tasks);
  const expanded = opts.expanded instanceof Set ? opts.expanded : new Set(opts.expanded || []);
  const sweeps = opts.sweeps ?? ((opts.total ?? countTasks(tasks)) > SMALL_GRAPH ? 4 : 16);
  const childOpts = { ...opts, expanded, sweeps };
  const nodes = tasks.map((task, i) => {
    const name = typeof task.name === 'string' ? task.name : `#${i + 1}`;
    const sub = subtitle(task);
    const nodePath = path ? `${path}/${i}` : String(i);
    const node = { id: i, name, path: nodePath, task, type: task.type || 'action', sub, dummy: false, extraRight: 0 };
    const group = task.type === 'parallel' && Array.isArray(task.tasks) && task.tasks.length > 0;
    if (group) node.groupSize = countTasks(task.tasks);
    if (group && opts.collapse && !expanded.has(nodePath)) {
      node.collapsed = true;
      node.sub = `${sub} · collapsed`;
      node.w = nodeWidth(name, node.sub);
      node.h = NODE_H;
    } else if (group && depth < MAX_DEPTH) {
      node.inner = layoutScope(task.tasks, depth + 1, childOpts, nodePath);
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
  const succ = Array.from({ length: n }, () => []);
  const indeg = new Int32Array(n);
  const dag = [];
  for (const e of info.edges) {
    if (e.self) continue;
    const [u, v] = e.back ? [e.to, e.from] : [e.from, e.to];
    dag.push({ u, v, edge: e });
    succ[u].push(v);
    indeg[v]++;
  }
  // Longest-path layering in Kahn (topological) order.
  const layer = new Array(n).fill(0);
  const queue = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue.push(i);
  const deg = Int32Array.from(indeg);
  for (let head = 0; head < queue.length; head++) {
    const u = queue[head];
    for (const v of succ[u]) {
      if (layer[u] + 1 > layer[v]) layer[v] = layer[u] + 1;
      if (--deg[v] === 0) queue.push(v);
    }
  }
  // Pull sources without predecessors down next to their first successor.
  for (let i = 0; i < n; i++) {
    if (indeg[i] === 0 && succ[i].length && !info.entries.has(i)) {
      let minSucc = Infinity;
      for (const v of succ[i]) if (layer[v] < minSucc) minSucc = layer[v];
      layer[i] = Math.max(layer[i], minSucc - 1);
    }
  }
  let layerCount = 0;
  for (let i = 0; i < n; i++) if (layer[i] + 1 > layerCount) layerCount = layer[i] + 1;

  // Dummy nodes, within a budget: past it, the longest edges are drawn
  // direct (one curve, no dummies) and take no part in the ordering, so
  // the work stays proportional to V + E whatever the edge spans.
  const budget = Math.max(DUMMY_MIN_BUDGET, DUMMY_BUDGET_PER_ITEM * (n + dag.length));
  let wanted = 0;
  for (const d of dag) wanted += Math.max(0, layer[d.v] - layer[d.u] - 1);
  if (wanted > budget) {
    const bySpan = dag.slice().sort((a, b) => (layer[b.v] - layer[b.u]) - (layer[a.v] - layer[a.u]));
    for (const d of bySpan) {
      if (wanted <= budget) break;
      d.direct = true;
      d.edge.direct = true;
      wanted -= layer[d.v] - layer[d.u] - 1;
    }
  }
  const all = [...nodes];
  const upN = all.map(() => []);
  const downN = all.map(() => []);
  for (const d of dag) {
    if (d.direct) {
      d.edge.chain = [d.u, d.v];
      continue;
    }
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
    for (let k = 0; k < chain.length - 1; k++) {
      downN[chain[k]].push(chain[k + 1]);
      upN[chain[k + 1]].push(chain[k]);
    }
    d.edge.chain = chain;
  }
  const N = all.length;
  const layers = Array.from({ length: layerCount }, () => []);
  for (let v = 0; v < N; v++) layers[layer[v]].push(v);

  // Barycenter ordering, a bounded number of sweeps.
  const pos = new Int32Array(N);
  const setPos = () => {
    for (const ids of layers) for (let i = 0; i < ids.length; i++) pos[ids[i]] = i;
  };
  setPos();
  let best = layers.map((ids) => ids.slice());
  let bestCross = countCrossings(layers, downN, pos);
  const bc = new Float64Array(N);
  for (let iter = 0; iter < sweeps && bestCross > 0; iter++) {
    const down = iter % 2 === 0;
    const nb = down ? upN : downN;
    for (let k = 1; k < layerCount; k++) {
      const l = down ? k : layerCount - 1 - k;
      const ids = layers[l];
      for (const v of ids) {
        const ns = nb[v];
        if (!ns.length) {
          bc[v] = pos[v];
          continue;
        }
        let sum = 0;
        for (const w of ns) sum += pos[w];
        bc[v] = sum / ns.length;
      }
      ids.sort((a, b) => bc[a] - bc[b] || pos[a] - pos[b]);
      for (let i = 0; i < ids.length; i++) pos[ids[i]] = i;
    }
    const c = countCrossings(layers, downN, pos);
    if (c < bestCross) {
      bestCross = c;
      best = layers.map((ids) => ids.slice());
    }
  }
  for (let l = 0; l < layerCount; l++) layers[l] = best[l];
  setPos();

  // Rows.
  const rowTop = new Array(layerCount);
  const rowH = new Array(layerCount);
  let y = MARGIN;
  for (let l = 0; l < layerCount; l++) {
    let hMax = NODE_H;
    for (const v of layers[l]) if ((all[v].h || 0) > hMax) hMax = all[v].h;
    rowTop[l] = y;
    rowH[l] = hMax;
    y += hMax + LAYER_GAP;
  }
  const height = layerCount ? y - LAYER_GAP + MARGIN : 2 * MARGIN + NODE_H;

  // X coordinates (centres), linear per layer and round.
  const cx = new Float64Array(N);
  const sep = (a, b) => all[a].w / 2 + (all[a].extraRight || 0) + all[b].w / 2 + (all[a].dummy || all[b].dummy ? 10 : NODE_GAP);
  for (const ids of layers) {
    let x = 0;
    for (let i = 0; i < ids.length; i++) {
      if (i > 0) x += sep(ids[i - 1], ids[i]);
      cx[ids[i]] = x;
    }
    const shift = -x / 2;
    for (const v of ids) cx[v] += shift;
  }
  // Scratch arrays as long as the widest layer (no allocation per call).
  let widest = 1;
  for (const ids of layers) if (ids.length > widest) widest = ids.length;
  const xl = new Float64Array(widest);
  const xr = new Float64Array(widest);
  const x = new Float64Array(widest);
  const desired = new Float64Array(widest);
  const place = (ids) => {
    const k = ids.length;
    if (!k) return;
    xl[0] = desired[0];
    for (let i = 1; i < k; i++) xl[i] = Math.max(desired[i], xl[i - 1] + sep(ids[i - 1], ids[i]));
    xr[k - 1] = desired[k - 1];
    for (let i = k - 2; i >= 0; i--) xr[i] = Math.min(desired[i], xr[i + 1] - sep(ids[i], ids[i + 1]));
    for (let i = 0; i < k; i++) x[i] = (xl[i] + xr[i]) / 2;
    for (let i = 1; i < k; i++) x[i] = Math.max(x[i], x[i - 1] + sep(ids[i - 1], ids[i]));
    for (let i = 0; i < k; i++) cx[ids[i]] = x[i];
  };
  // Weighted barycenter: a dummy follows its chain strongly, so long edges
  // run straight instead of wiggling between layers.
  const weight = (v, w) => (all[v].dummy && all[w].dummy ? 8 : all[v].dummy || all[w].dummy ? 2 : 1);
  const relax = (l, useUp, useDown) => {
    const ids = layers[l];
    for (let i = 0; i < ids.length; i++) {
      const v = ids[i];
      let sum = 0;
      let total = 0;
      if (useUp) {
        for (const w of upN[v]) {
          const k = weight(v, w);
          sum += k * cx[w];
          total += k;
        }
      }
      if (useDown) {
        for (const w of downN[v]) {
          const k = weight(v, w);
          sum += k * cx[w];
          total += k;
        }
      }
      desired[i] = total ? sum / total : cx[v];
    }
    place(ids);
  };
  const rounds = sweeps > 4 ? 8 : 4;
  for (let iter = 0; iter < rounds; iter++) {
    for (let l = 1; l < layerCount; l++) relax(l, true, false);
    for (let l = layerCount - 2; l >= 0; l--) relax(l, false, true);
  }
  for (let l = 0; l < layerCount; l++) relax(l, true, true);

  // Long graphs: the relaxation pulls each layer towards the one above, so a
  // long graph drifts sideways layer after layer (a diagonal band several
  // times wider than any layer). Remove the drift: shift each layer by the
  // moving average (over 2 * DRIFT_WINDOW + 1 layers) of its middle; nearby
  // layers move by almost the same amount, so edges keep their shape.
  if (layerCount > 2 * DRIFT_WINDOW + 1) {
    const mid = new Float64Array(layerCount);
    let prev = 0;
    for (let l = 0; l < layerCount; l++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of layers[l]) {
        if (all[v].dummy) continue;
        lo = Math.min(lo, cx[v] - all[v].w / 2);
        hi = Math.max(hi, cx[v] + all[v].w / 2);
      }
      mid[l] = Number.isFinite(lo) ? (lo + hi) / 2 : prev;
      prev = mid[l];
    }
    const prefix = new Float64Array(layerCount + 1);
    for (let l = 0; l < layerCount; l++) prefix[l + 1] = prefix[l] + mid[l];
    for (let l = 0; l < layerCount; l++) {
      const a = Math.max(0, l - DRIFT_WINDOW);
      const b = Math.min(layerCount, l + DRIFT_WINDOW + 1);
      const shift = (prefix[b] - prefix[a]) / (b - a);
      for (const v of layers[l]) cx[v] -= shift;
    }
  }

  // Straighten dummy chains where the neighbours in each layer leave room.
  const posInLayer = new Int32Array(N);
  for (const ids of layers) for (let i = 0; i < ids.length; i++) posInLayer[ids[i]] = i;
  const fits = (v, x) => {
    const ids = layers[layer[v]];
    const i = posInLayer[v];
    if (i > 0 && x < cx[ids[i - 1]] + sep(ids[i - 1], v)) return false;
    if (i < ids.length - 1 && x > cx[ids[i + 1]] - sep(v, ids[i + 1])) return false;
    return true;
  };
  for (const d of dag) {
    const chain = d.edge.chain;
    if (d.direct || chain.length < 4) continue; // direct, or fewer than two dummies
    const dummies = chain.slice(1, -1);
    const xs = dummies.map((v) => cx[v]).sort((a, b) => a - b);
    const candidates = [xs[Math.floor(xs.length / 2)]];
    if (xs.length <= STRAIGHTEN_CANDIDATES) candidates.push(...xs);
    else for (let k = 0; k < STRAIGHTEN_CANDIDATES; k++) candidates.push(xs[Math.floor((k * (xs.length - 1)) / (STRAIGHTEN_CANDIDATES - 1))]);
    for (const x of candidates) {
      if (dummies.every((v) => fits(v, x))) {
        for (const v of dummies) cx[v] = x;
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
    bottoms[first].push({ e, toward: all[chain[1]].cx });
    tops[last].push({ e, toward: all[chain[chain.length - 2]].cx });
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
    delete e.chain;
    delete e.xBottom;
    delete e.xTop;
  }

  return {
    width: Math.max(width, MIN_W + 2 * MARGIN),
    height,
    nodes,
    edges: info.edges,
    entries: info.entries,
    reachable: info.reachable,
    crossings: bestCross,
    dummies: N - n,
  };
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
export class BoxGrid {
  constructor(cell = 160) {
    this.cell = cell;
    this.cells = new Map();
    this.big = [];
  }

  range(b) {
    const c = this.cell;
    return [Math.floor(b.x / c), Math.floor((b.x + b.w) / c), Math.floor(b.y / c), Math.floor((b.y + b.h) / c)];
  }

  add(b, item = b) {
    const [x0, x1, y0, y1] = this.range(b);
    if ((x1 - x0 + 1) * (y1 - y0 + 1) > 64) {
      this.big.push([b, item]);
      return;
    }
    for (let i = x0; i <= x1; i++) {
      for (let j = y0; j <= y1; j++) {
        const key = `${i},${j}`;
        const list = this.cells.get(key);
        if (list) list.push([b, item]);
        else this.cells.set(key, [[b, item]]);
      }
    }
  }

  hits(b) {
    for (const [o] of this.big) if (overlaps(o, b)) return true;
    const [x0, x1, y0, y1] = this.range(b);
    for (let i = x0; i <= x1; i++) {
      for (let j = y0; j <= y1; j++) {
        const list = this.cells.get(`${i},${j}`);
        if (list) for (const [o] of list) if (overlaps(o, b)) return true;
      }
    }
    return false;
  }

  /** The items whose boxes overlap b (each once). */
  query(b, out = new Set()) {
    for (const [o, item] of this.big) if (overlaps(o, b)) out.add(item);
    const [x0, x1, y0, y1] = this.range(b);
    for (let i = x0; i <= x1; i++) {
      for (let j = y0; j <= y1; j++) {
        const list = this.cells.get(`${i},${j}`);
        if (list) for (const [o, item] of list) if (overlaps(o, b)) out.add(item);
      }
    }
    return out;
  }
}

export const LABEL_H = 15;

/**
 * Edge labels, placed along each edge's first segment where they overlap no
 * box and no earlier label (greedy, in edge order): e.label = {text, x, y,
 * w, h}. Recursively into groups.
 */
export function placeLabels(layout) {
  const boxes = new BoxGrid();
  for (const v of layout.nodes) boxes.add({ x: v.x, y: v.y, w: v.w, h: v.h });
  for (const e of layout.edges) {
    const text = e.labels.join(' / ');
    const w = text.length * LABEL_CHAR_W + 8;
    const hgt = LABEL_H;
    let box = null;
    if (e.self) {
      const { x, y1, y2 } = e.loop;
      box = { x: x + 30, y: (y1 + y2) / 2 - hgt / 2, w, h: hgt };
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
    e.label = { text, ...box };
  }
  for (const v of layout.nodes) if (v.inner) placeLabels(v.inner);
  return layout;
}

/**
 * The whole graph of a task list. options: {collapse: true | false |
 * undefined (collapse past COLLAPSE_OVER tasks), expanded: [group paths]}.
 * Adds {taskCount, collapse} and the edge labels' places (placeLabels).
 */
export function layoutGraph(tasks, options = {}) {
  const total = countTasks(tasks);
  const collapse = options.collapse ?? total > COLLAPSE_OVER;
  const layout = placeLabels(layoutScope(tasks, 0, { collapse, expanded: new Set(options.expanded || []), total }));
  layout.taskCount = total;
  layout.collapse = collapse;
  return layout;
}

/** Drop the task objects (the caller has them; taskAtPath finds them). */
export function stripTasks(layout) {
  for (const node of layout.nodes) {
    delete node.task;
    if (node.inner) stripTasks(node.inner);
  }
  return layout;
}
