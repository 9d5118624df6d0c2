// Deterministic big workflows for the graph benchmark (scripts/bench-graph.sh)
// and the layout unit tests: exactly N tasks (nested ones counted), as a
// definition (tasks array, the shape the API's normalized definition has)
// and as workflow YAML the validator accepts.
//
// "pipeline": stages that fan out to 4-12 workers and join again; a worker
// that fails goes to the stage's cleanup, which rejoins; every 5th stage has
// a retry loop (a back edge to the stage), every 6th a timeout edge that
// skips two stages (long edges, dummy nodes), every 7th a parallel group of
// three tasks as one of its workers; leftover tasks form a tail chain.
//
// "chain": the unit tests' random chain with failure jumps ahead and retry
// loops back (one task per layer: tall and narrow).
//
// "mesh": every task goes to 1-3 random tasks among the next ten; the tasks
// nobody targets are entries (drawn at the top), so many edges are long:
// the heaviest case for the layout (dummy nodes), the dummy budget's case.

const ok = (to) => ({ when: '{{ succeeded() }}', do: [to] });
const act = (name, next = [], extra = {}) => ({ name, action: 'core.noop', ...extra, next });

export function pipeline(n) {
  const tasks = [];
  let count = 0;
  const push = (t, size = 1) => {
    tasks.push(t);
    count += size;
  };
  const stageSize = (k) => {
    const workers = 4 + (k % 9);
    return 1 + workers + (k % 7 === 3 ? 3 : 0) + 2;
  };
  let k = 0;
  // Stage k: stage_k -> workers -> join_k (cleanup_k on failure) -> stage_{k+1}.
  const stages = [];
  while (count + stageSize(k) + (stages.length ? 0 : 1) <= n) {
    stages.push(k);
    count += stageSize(k);
    k++;
  }
  count = 0;
  const last = stages.length - 1;
  const tailCount = () => n - count;
  for (const s of stages) {
    const workers = 4 + (s % 9);
    const names = Array.from({ length: workers }, (_, j) => `s${s}_w${j}`);
    const after = s < last ? `stage_${s + 1}` : null;
    const stageNext = [{ do: names }];
    if (s % 6 === 5 && s + 2 <= last) stageNext.push({ when: '{{ timed_out() }}', do: [`join_${s + 2}`] });
    push(act(`stage_${s}`, stageNext, { action: 'core.echo', input: { message: `stage ${s}` } }));
    names.forEach((name, j) => {
      const next = [ok(`join_${s}`), { when: '{{ failed() }}', do: [`cleanup_${s}`] }];
      if (s % 5 === 2 && j === 0) next.push({ when: '{{ succeeded() and result().retry }}', do: [`stage_${s}`] });
      if (s % 7 === 3 && j === 1) {
        push({
          name,
          type: 'parallel',
          tasks: [act(`${name}_a`), act(`${name}_b`, [{ do: [`${name}_c`] }]), act(`${name}_c`)],
          next,
        }, 4);
      } else {
        push(act(name, next, j % 3 === 2 ? { retry: { count: 2, delay: 5 } } : {}));
      }
    });
    push(act(`cleanup_${s}`, [{ do: [`join_${s}`] }]));
    push(act(`join_${s}`, after ? [ok(after)] : []));
  }
  // Tail chain to reach exactly n tasks.
  const tail = tailCount();
  for (let i = 0; i < tail; i++) {
    const name = `tail_${i}`;
    push(act(name, i + 1 < tail ? [ok(`tail_${i + 1}`)] : []));
  }
  if (tail && stages.length) tasks.find((t) => t.name === `join_${last}`).next.push(ok('tail_0'));
  return tasks;
}

export function chain(n, seed0 = 42) {
  let seed = seed0;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const tasks = [];
  for (let i = 0; i < n; i++) {
    const next = [];
    if (i + 1 < n) next.push(ok(`t${i + 1}`));
    if (rnd() < 0.25 && i + 3 < n) next.push({ when: '{{ failed() }}', do: [`t${i + 2 + (Math.floor(rnd() * 8) % (n - 1 - i))}`] });
    if (rnd() < 0.08 && i > 5) next.push({ when: '{{ succeeded() and result().retry }}', do: [`t${i - 1 - Math.floor(rnd() * 5)}`] });
    tasks.push(act(`t${i}`, next));
  }
  return tasks;
}

export function mesh(n, seed0 = 7) {
  let seed = seed0;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const tasks = [];
  for (let i = 0; i < n; i++) {
    const targets = new Set();
    const k = 1 + Math.floor(rnd() * 3);
    for (let j = 0; j < k; j++) {
      const to = i + 1 + Math.floor(rnd() * 10);
      if (to < n) targets.add(`t${to}`);
    }
    tasks.push(act(`t${i}`, targets.size ? [ok([...targets][0]), ...[...targets].slice(1).map((t) => ({ do: [t] }))] : []));
  }
  return tasks;
}

export const SHAPES = { pipeline, chain, mesh };

const q = (text) => JSON.stringify(String(text));

function taskYaml(t, indent, out) {
  const pad = ' '.repeat(indent);
  out.push(`${pad}- name: ${t.name}`);
  if (t.type === 'parallel') {
    out.push(`${pad}  type: parallel`);
    out.push(`${pad}  tasks:`);
    for (const c of t.tasks) taskYaml(c, indent + 4, out);
  } else {
    out.push(`${pad}  action: ${t.action}`);
  }
  if (t.input) {
    out.push(`${pad}  input:`);
    for (const [k, v] of Object.entries(t.input)) out.push(`${pad}    ${k}: ${q(v)}`);
  }
  if (t.retry) out.push(`${pad}  retry: { count: ${t.retry.count}, delay: ${t.retry.delay} }`);
  if (t.next && t.next.length) {
    out.push(`${pad}  next:`);
    for (const tr of t.next) {
      if (tr.when) out.push(`${pad}    - when: ${q(tr.when)}`, `${pad}      do: [${tr.do.join(', ')}]`);
      else out.push(`${pad}    - do: [${tr.do.join(', ')}]`);
    }
  }
}

/** Workflow YAML for a task list. */
export function toYaml(tasks, label = 'Generated workflow') {
  const out = [`label: ${q(label)}`, 'version: "1.0.0"', 'tasks:'];
  for (const t of tasks) taskYaml(t, 2, out);
  return `${out.join('\n')}\n`;
}
