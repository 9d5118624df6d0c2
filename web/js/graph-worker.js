// Module Web Worker: lays out a task graph off the main thread. Loaded by
// web/js/graph.js from the same versioned /ui/ path (CSP: script-src 'self'
// covers it). Message in: {id, tasks (reduceTasks output), options}; out:
// {id, layout, ms} or {id, error}.

import { layoutGraph, stripTasks } from './layout.js';

self.addEventListener('message', (ev) => {
  const { id, tasks, options } = ev.data || {};
  try {
    const started = performance.now();
    const layout = stripTasks(layoutGraph(Array.isArray(tasks) ? tasks : [], options || {}));
    self.postMessage({ id, layout, ms: performance.now() - started });
  } catch (err) {
    self.postMessage({ id, error: String((err && err.message) || err) });
  }
});
