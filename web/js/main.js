// Entry point: hash router, page shell (nav, session, logout) and focus
// handling. Routes: #/login #/packs #/packs/{ref} #/packs/{ref}/runs
// #/runs/{id} #/workflows/{ref} #/workflows/{ref}/history #/workflows/{ref}/diff #/validate #/tokens #/audit

import { h, clear } from './dom.js';
import { api, getSession, clearSession, setLoginMessage, ApiError } from './api.js';
import { loginView } from './views/login.js';
import { packsView } from './views/packs.js';
import { packView } from './views/pack.js';
import { runsView, runView } from './views/runs.js';
import { workflowView } from './views/workflow.js';
import { historyView, diffView } from './views/history.js';
import { validateView } from './views/validate.js';
import { tokensView } from './views/tokens.js';
import { auditView } from './views/audit.js';

const routes = [
  { re: /^\/login$/, view: loginView, nav: null, public: true },
  { re: /^\/packs$/, view: packsView, nav: 'packs' },
  { re: /^\/packs\/([^/]+)$/, view: packView, nav: 'packs', keys: ['ref'] },
  { re: /^\/packs\/([^/]+)\/runs$/, view: runsView, nav: 'packs', keys: ['ref'] },
  { re: /^\/runs\/([^/]+)$/, view: runView, nav: 'packs', keys: ['id'] },
  { re: /^\/workflows\/([^/]+)$/, view: workflowView, nav: 'packs', keys: ['ref'] },
  { re: /^\/workflows\/([^/]+)\/history$/, view: historyView, nav: 'packs', keys: ['ref'] },
  { re: /^\/workflows\/([^/]+)\/diff$/, view: diffView, nav: 'packs', keys: ['ref'] },
  { re: /^\/validate$/, view: validateView, nav: 'validate' },
  { re: /^\/tokens$/, view: tokensView, nav: 'tokens' },
  { re: /^\/audit$/, view: auditView, nav: 'audit' },
];

const main = document.getElementById('main');
let generation = 0;
let cleanups = [];
let me = null;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/packs';
  const [path, query = ''] = raw.split('?');
  return { path, query: new URLSearchParams(query) };
}

async function updateSessionBar(route) {
  const sess = getSession();
  const signedIn = !!(sess && sess.access_token);
  document.getElementById('topnav').hidden = !signedIn;
  document.getElementById('session').hidden = !signedIn;
  for (const a of document.querySelectorAll('#topnav a')) {
    if (route && a.dataset.nav === route.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (signedIn && !me) {
    try {
      const env = await api('GET', '/auth/me');
      me = env.data || null;
    } catch {
      me = null;
    }
  }
  document.getElementById('who').textContent = signedIn && me ? `${me.login} (${me.role})` : '';
  for (const a of document.querySelectorAll('#topnav [data-admin]')) a.hidden = !(me && me.role === 'admin');
}

async function render() {
  const gen = ++generation;
  for (const fn of cleanups.splice(0)) {
    try {
      fn();
    } catch {
      /* a view's cleanup must not stop navigation */
    }
  }
  const { path, query } = parseHash();
  let route = null;
  let params = {};
  for (const r of routes) {
    const m = path.match(r.re);
    if (m) {
      route = r;
      (r.keys || []).forEach((k, i) => {
        try {
          params[k] = decodeURIComponent(m[i + 1]);
        } catch {
          params[k] = m[i + 1];
        }
      });
      break;
    }
  }
  if (!route) {
    location.replace('#/packs');
    return;
  }
  if (!route.public && !getSession()?.access_token) {
    location.replace(`#/login?next=${encodeURIComponent(path)}`);
    return;
  }
  updateSessionBar(route);
  const ctx = {
    query,
    alive: () => gen === generation,
    onCleanup: (fn) => {
      cleanups.push(fn);
    },
    setTitle: (t) => {
      document.title = t ? `${t} · attune` : 'attune';
    },
  };
  const view = h('div', { class: 'view' });
  clear(main).appendChild(view);
  try {
    await route.view(view, params, ctx);
  } catch (err) {
    if (!ctx.alive()) return;
    if (err instanceof ApiError && err.status === 401) return;
    clear(view).appendChild(errorPanel(err));
  }
  if (ctx.alive()) {
    const heading = view.querySelector('h1');
    if (heading && document.activeElement === document.body) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: true });
    }
  }
}

export function errorPanel(err) {
  const message = err instanceof ApiError ? err.message : String(err && err.message ? err.message : err);
  const status = err instanceof ApiError && err.status ? ` (${err.status} ${err.code})` : '';
  return h('div', { class: 'panel notice notice-error', role: 'alert' },
    h('h1', {}, err instanceof ApiError && err.status === 404 ? 'Not found' : 'Something went wrong'),
    h('p', {}, message + status),
    h('p', {}, h('a', { href: '#/packs' }, 'Back to packs')));
}

document.getElementById('logout').addEventListener('click', async () => {
  // end the session on the server too (its refresh token stops working);
  // sign out locally whatever the answer
  try {
    await api('POST', '/auth/logout', {});
  } catch {
    /* already ended or unreachable */
  }
  clearSession();
  me = null;
  setLoginMessage('you are signed out');
  location.hash = '#/login';
});

window.addEventListener('hashchange', () => {
  document.activeElement?.blur?.();
  render();
});
window.addEventListener('attune:signed-in', () => {
  me = null;
});
render();
