// Live updates: one EventSource per tab on /api/v1/events, opened with a
// single-use ticket from POST /api/v1/events/ticket (the access token never
// goes into a URL). Views subscribe with onEvent(fn) and get every event
// ({kind, ...}); after a reconnect (attune restarted, the stream's lifetime
// ended, or this tab was dropped for falling behind) they get
// {kind: 'reconnected'} so they reload what they show.

import { api, getSession } from './api.js';

const KINDS = ['run_finished', 'pack_created', 'pack_updated', 'pack_deleted', 'discovery_changed'];
const listeners = new Set();
let source = null;
let retry = 0;
let timer = null;
let everOpen = false;

function setState(state) {
  document.documentElement.dataset.live = state;
  const dot = document.getElementById('live-state');
  if (dot) {
    dot.dataset.state = state;
    dot.title = state === 'on' ? 'live: updates arrive as they happen' : 'reconnecting to live updates…';
    dot.textContent = state === 'on' ? 'live' : 'offline';
  }
}

function emit(event) {
  for (const fn of [...listeners]) {
    try {
      fn(event);
    } catch {
      /* one view's handler must not stop the others */
    }
  }
}

function schedule() {
  if (timer || !listeners.size) return;
  const wait = Math.min(15000, 500 * 2 ** Math.min(retry, 5));
  retry += 1;
  timer = setTimeout(() => {
    timer = null;
    connect();
  }, wait);
}

async function connect() {
  if (source || !listeners.size || !getSession()?.access_token) return;
  let ticket;
  try {
    const env = await api('POST', '/api/v1/events/ticket');
    ticket = env.data && env.data.ticket;
  } catch {
    setState('off');
    schedule();
    return;
  }
  if (!ticket || source || !listeners.size) return;
  const es = new EventSource(`/api/v1/events?ticket=${encodeURIComponent(ticket)}`);
  source = es;
  es.addEventListener('ready', () => {
    retry = 0;
    setState('on');
    if (everOpen) emit({ kind: 'reconnected' });
    everOpen = true;
  });
  for (const kind of KINDS) {
    es.addEventListener(kind, (e) => {
      let data = null;
      try {
        data = JSON.parse(e.data);
      } catch {
        return;
      }
      emit(data);
    });
  }
  es.onerror = () => {
    // The ticket is spent: never let EventSource retry with it.
    es.close();
    if (source === es) source = null;
    setState('off');
    schedule();
  };
}

/** Subscribe to live events; returns the unsubscribe function. */
export function onEvent(fn) {
  listeners.add(fn);
  connect();
  return () => {
    listeners.delete(fn);
    if (!listeners.size) {
      if (source) source.close();
      source = null;
      clearTimeout(timer);
      timer = null;
      everOpen = false;
    }
  };
}

/** A "updated just now" stamp that keeps counting. */
export function freshness(el) {
  let at = 0;
  const tick = () => {
    if (!at) return;
    const s = Math.round((Date.now() - at) / 1000);
    el.textContent = s < 10 ? 'updated just now' : s < 60 ? `updated ${s} s ago` : `updated ${Math.round(s / 60)} min ago`;
  };
  const iv = setInterval(tick, 5000);
  return {
    mark() {
      at = Date.now();
      el.hidden = false;
      tick();
      el.classList.remove('flash');
      void el.offsetWidth;
      el.classList.add('flash');
    },
    stop() {
      clearInterval(iv);
    },
  };
}
