// Packs onto the appliance: the "On disk, not registered" panel (discovered
// folders with their problems and a Register button), the "Upload pack"
// panel (file picker and drop zone, progress while sending, then the sync
// result with every diagnostic) and the pack archive download.

import { h, add, badge, clear, toast } from './dom.js';
import { api, getSession, enc, ApiError, toLogin } from './api.js';
import { plural } from './format.js';
import { renderResult } from './results.js';
import { renderDiagnosticList } from './diagnostics.js';

function errorNotice(err) {
  const parts = [h('p', { class: 'notice notice-error', role: 'alert' }, badge('error', 'error'), ' ', err.message)];
  const diags = err.body && Array.isArray(err.body.diagnostics) ? err.body.diagnostics : [];
  if (diags.length) parts.push(renderDiagnosticList(diags));
  return h('div', { class: 'delivery-error' }, parts);
}

/** Folders under the packs directory that are not registered packs. */
export function availablePanel({ onRegistered }) {
  const body = h('div', { class: 'available-body' });
  const result = h('div', { class: 'available-result', 'aria-live': 'polite' });
  const panel = h('section', { class: 'panel available', id: 'available', hidden: true },
    h('h2', {}, 'On disk, not registered ', h('span', { class: 'muted', id: 'available-count' })),
    h('p', { class: 'muted' }, 'Folders under the packs directory that are not registered packs yet. Register one to create the pack from its pack.yaml and sync its workflows.'),
    body, result);

  async function register(folder, btn) {
    btn.disabled = true;
    btn.textContent = 'Registering…';
    clear(result);
    try {
      const env = await api('POST', '/api/v1/packs/register', { ref: folder });
      toast(env.message || 'pack registered', 'ok');
      const d = env.data || {};
      add(result,
        h('p', { class: 'notice' }, badge('ok', 'registered'), ' ', env.message || '', ' ',
          h('a', { href: `#/packs/${enc(folder)}`, id: 'registered-link' }, 'Open the pack')),
        renderResult(d.sync || {}, 'sync', { title: `Sync of ${folder}` }));
      await load();
      if (onRegistered) onRegistered(d.pack);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      add(result, errorNotice(err));
      btn.disabled = false;
      btn.textContent = 'Register';
    }
  }

  async function load() {
    let list;
    try {
      list = (await api('GET', '/api/v1/packs/available')).data || [];
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return;
      panel.hidden = false;
      add(clear(body), errorNotice(err));
      return;
    }
    panel.hidden = list.length === 0 && !result.firstChild;
    panel.querySelector('#available-count').textContent = `(${list.length})`;
    if (!list.length) {
      add(clear(body), h('p', { class: 'empty' }, 'Every folder is registered.'));
      return;
    }
    const rows = list.map((f) => {
      const btn = h('button', { type: 'button', class: 'btn btn-primary', dataset: { register: f.folder }, disabled: !f.valid,
        title: f.valid ? `register ${f.folder} from its pack.yaml` : 'fix the problems first' }, 'Register');
      btn.addEventListener('click', () => register(f.folder, btn));
      const problems = f.problems || [];
      return h('li', { class: 'available-item', dataset: { folder: f.folder } },
        h('div', { class: 'available-head' },
          h('code', { class: 'ref' }, f.folder),
          f.label && h('span', { class: 'label' }, f.label),
          f.version && h('span', { class: 'muted' }, 'version ', h('code', {}, f.version)),
          h('span', { class: 'muted' }, plural(f.workflow_count || 0, 'workflow file')),
          f.valid ? badge('ok', 'ready') : badge('error', plural(problems.filter((p) => p.severity === 'error').length, 'problem')),
          btn),
        f.description && h('p', { class: 'description' }, f.description),
        problems.length ? renderDiagnosticList(problems) : null);
    });
    add(clear(body), h('ul', { class: 'available-list' }, rows));
  }

  return { panel, load };
}

/**
 * POST a multipart form with upload progress (fetch has none). Resolves to
 * the envelope; rejects with ApiError like api().
 */
function sendForm(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    const token = getSession()?.access_token;
    if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable && onProgress) onProgress(ev.loaded, ev.total);
    };
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'cannot reach the appliance; check that attune is running', null));
    xhr.onload = () => {
      let json = null;
      try {
        json = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        json = null;
      }
      if (xhr.status === 401) {
        toLogin('your session has ended; sign in again');
        reject(new ApiError(401, 'UNAUTHORIZED', 'sign in again', json));
        return;
      }
      if (xhr.status < 200 || xhr.status >= 300) {
        reject(new ApiError(xhr.status, (json && json.code) || `HTTP_${xhr.status}`, (json && json.error) || `upload failed with status ${xhr.status}`, json));
        return;
      }
      resolve(json || {});
    };
    xhr.send(form);
  });
}

/** The "Upload pack" panel. */
export function uploadPanel({ onUploaded }) {
  const input = h('input', { type: 'file', id: 'upload-file', accept: '.tar.gz,.tgz,.zip,application/gzip,application/zip', class: 'sr-only' });
  const chosen = h('span', { class: 'muted', id: 'upload-chosen' }, 'no file chosen');
  const pick = h('label', { for: 'upload-file', class: 'btn' }, 'Choose archive…');
  const drop = h('div', { class: 'drop-zone', id: 'drop-zone', tabindex: '0', role: 'button', 'aria-label': 'Drop a pack archive here or press Enter to choose one' },
    h('strong', {}, 'Drop a .tar.gz or .zip here'), h('span', { class: 'muted' }, 'one pack: its pack.yaml at the top or inside one top folder'));
  const dry = h('input', { type: 'checkbox', id: 'upload-dry-run' });
  const force = h('input', { type: 'checkbox', id: 'upload-force' });
  const send = h('button', { type: 'button', class: 'btn btn-primary', id: 'upload-send', disabled: true }, 'Upload');
  const progress = h('progress', { id: 'upload-progress', max: '100', value: '0', hidden: true });
  const status = h('span', { class: 'muted', role: 'status', id: 'upload-status' });
  const result = h('div', { class: 'upload-result', id: 'upload-result', 'aria-live': 'polite' });
  let file = null;

  const choose = (f) => {
    file = f || null;
    chosen.textContent = file ? `${file.name} (${plural(file.size, 'byte')})` : 'no file chosen';
    send.disabled = !file;
  };
  input.addEventListener('change', () => choose(input.files && input.files[0]));
  drop.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      input.click();
    }
  });
  drop.addEventListener('click', () => input.click());
  for (const t of ['dragenter', 'dragover']) {
    drop.addEventListener(t, (ev) => {
      ev.preventDefault();
      drop.classList.add('drag');
    });
  }
  for (const t of ['dragleave', 'drop']) drop.addEventListener(t, () => drop.classList.remove('drag'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    const f = ev.dataTransfer && ev.dataTransfer.files && ev.dataTransfer.files[0];
    if (f) choose(f);
  });

  send.addEventListener('click', async () => {
    if (!file) return;
    const form = new FormData();
    form.append('pack', file, file.name);
    if (dry.checked) form.append('dry_run', 'true');
    if (force.checked) form.append('force', 'true');
    send.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    status.textContent = 'Sending…';
    clear(result);
    try {
      const env = await sendForm('/api/v1/packs/upload', form, (loaded, total) => {
        progress.value = Math.round((loaded / total) * 100);
        status.textContent = loaded >= total ? 'Unpacking, checking and syncing…' : `Sending… ${progress.value}%`;
      });
      const d = env.data || {};
      status.textContent = '';
      add(result,
        h('p', { class: 'notice' }, badge(d.dry_run ? 'info' : 'ok', d.dry_run ? 'dry run' : 'uploaded'), ' ', env.message || '', ' ',
          h('span', { class: 'muted' }, `${plural(d.files || 0, 'file')} unpacked`), ' ',
          !d.dry_run && d.ref ? h('a', { href: `#/packs/${enc(d.ref)}`, id: 'uploaded-link' }, 'Open the pack') : null),
        renderResult(d.sync || {}, 'sync', { title: d.dry_run ? `What a sync of ${d.ref} would do` : `Sync of ${d.ref}` }));
      if (!d.dry_run) {
        toast(env.message || 'pack uploaded', 'ok');
        if (onUploaded) onUploaded(d);
      }
    } catch (err) {
      status.textContent = '';
      if (err instanceof ApiError && err.status === 401) return;
      add(result, errorNotice(err));
    } finally {
      progress.hidden = true;
      send.disabled = !file;
    }
  });

  const panel = h('details', { class: 'panel upload-pack', id: 'upload-pack' },
    h('summary', {}, h('span', { class: 'summary-title' }, 'Upload pack')),
    h('div', { class: 'upload-body' },
      drop,
      h('div', { class: 'upload-row' }, input, pick, chosen),
      h('div', { class: 'upload-row' },
        h('label', { class: 'check' }, dry, ' Dry run (check only, keep nothing)'),
        h('label', { class: 'check' }, force, ' Replace an existing pack')),
      h('div', { class: 'upload-row' }, send, progress, status),
      result));
  return panel;
}

/** Downloads the pack's archive (the API needs the bearer header, so no plain link). */
export async function downloadArchive(ref) {
  const token = getSession()?.access_token;
  const res = await fetch(`/api/v1/packs/${enc(ref)}/archive`, {
    headers: token ? { Authorization: `Bearer ${token}` } : {},
    credentials: 'omit',
    cache: 'no-store',
  });
  if (!res.ok) {
    let json = null;
    try {
      json = await res.json();
    } catch {
      json = null;
    }
    if (res.status === 401) toLogin('your session has ended; sign in again');
    throw new ApiError(res.status, (json && json.code) || `HTTP_${res.status}`, (json && json.error) || `download failed with status ${res.status}`, json);
  }
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: `${ref}.tar.gz`, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
