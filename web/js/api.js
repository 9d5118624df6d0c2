// The HTTP client: bearer token kept in sessionStorage (for this tab only),
// the {data, message} envelope unwrapped, one refresh attempt on 401, and
// any remaining 401 sends the user back to the login page with a message.

const KEY = 'attune.session';

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body || null;
  }
}

export function getSession() {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

export function setSession(value) {
  sessionStorage.setItem(KEY, JSON.stringify(value));
}

export function clearSession() {
  sessionStorage.removeItem(KEY);
}

let loginMessage = '';
/** A message shown once on the login page (e.g. after a 401). */
export function takeLoginMessage() {
  const m = loginMessage;
  loginMessage = '';
  return m;
}
export function setLoginMessage(m) {
  loginMessage = m;
}

/** Send the user to the login page, remembering where they were. */
export function toLogin(message) {
  clearSession();
  if (message) loginMessage = message;
  // Already on the way to the login page (two requests failed at once,
  // e.g. a view's and the live stream's): one redirect, one message.
  if (location.hash.startsWith('#/login')) return;
  const here = location.hash.replace(/^#/, '');
  const next = here && !here.startsWith('/login') ? `?next=${encodeURIComponent(here)}` : '';
  location.hash = `#/login${next}`;
}

async function rawFetch(method, path, body, token, signal) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      credentials: 'omit',
      cache: 'no-store',
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'NETWORK', 'cannot reach the appliance; check that attune is running', null);
  }
  let json = null;
  const text = await res.text();
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  return { res, json };
}

let refreshing = null;
async function refresh() {
  const sess = getSession();
  if (!sess || !sess.refresh_token) return false;
  if (!refreshing) {
    refreshing = (async () => {
      try {
        const { res, json } = await rawFetch('POST', '/auth/refresh', { refresh_token: sess.refresh_token });
        if (!res.ok || !json || !json.data || !json.data.access_token) return false;
        setSession({ ...sess, ...json.data });
        return true;
      } catch {
        return false;
      } finally {
        setTimeout(() => (refreshing = null), 0);
      }
    })();
  }
  return refreshing;
}

/**
 * Call the API. Resolves to the whole envelope ({data, message, meta}).
 * Rejects with ApiError (status, code, message, body) on non-2xx.
 */
export async function api(method, path, body, { signal, auth = true } = {}) {
  const token = auth ? getSession()?.access_token : null;
  let { res, json } = await rawFetch(method, path, body, token, signal);
  if (res.status === 401 && auth) {
    if (await refresh()) {
      ({ res, json } = await rawFetch(method, path, body, getSession()?.access_token, signal));
    }
    if (res.status === 401) {
      toLogin('your session has ended; sign in again');
      throw new ApiError(401, 'UNAUTHORIZED', 'sign in again', json);
    }
  }
  if (!res.ok) {
    const message = (json && json.error) || `request failed with status ${res.status}`;
    const code = (json && json.code) || 'HTTP_' + res.status;
    throw new ApiError(res.status, code, message, json);
  }
  return json || {};
}

/** Fetch every page of a list endpoint (per_page 100). */
export async function listAll(path, { signal, max = 50 } = {}) {
  const items = [];
  const sep = path.includes('?') ? '&' : '?';
  // How many the server has: more than `items.length` when `max` pages
  // were not enough (callers say so instead of hiding the rest).
  items.total = 0;
  for (let page = 1; page <= max; page++) {
    const env = await api('GET', `${path}${sep}page=${page}&per_page=100`, undefined, { signal });
    const data = Array.isArray(env.data) ? env.data : [];
    items.push(...data);
    items.total = Math.max(env.meta?.total ?? 0, items.length);
    const totalPages = env.meta?.total_pages ?? 1;
    if (page >= totalPages || data.length === 0) break;
  }
  return items;
}

export const enc = encodeURIComponent;
