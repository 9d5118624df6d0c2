// API tokens for scripts: the caller's tokens (an admin sees everyone's),
// a form that makes one and shows its secret once with a Copy button, and
// Revoke buttons.

import { h, add, clear, toast } from '../dom.js';
import { api, enc, ApiError } from '../api.js';
import { fmtTime, timeAgo } from '../format.js';

const ROLES = ['viewer', 'operator', 'admin'];

export async function tokensView(root, _params, ctx) {
  ctx.setTitle('API tokens');
  const me = (await api('GET', '/auth/me')).data || {};
  if (!ctx.alive()) return;
  const allowed = ROLES.slice(0, ROLES.indexOf(me.role) + 1);
  const tableWrap = h('div', { class: 'table-wrap' });
  const secretArea = h('div', { class: 'token-secret', 'aria-live': 'polite' });
  const name = h('input', { id: 'token-name', name: 'name', required: true, maxlength: 64, autocomplete: 'off', placeholder: 'nightly-backup' });
  const role = h('select', { id: 'token-role', name: 'role' },
    allowed.map((r) => h('option', { value: r, selected: r === me.role }, r)));
  const days = h('input', { id: 'token-days', name: 'days', type: 'number', min: 1, max: 3650, placeholder: 'never' });
  const form = h('form', { class: 'panel token-form', onSubmit: async (e) => {
    e.preventDefault();
    const body = { name: name.value.trim(), role: role.value };
    if (days.value) body.expires_in = Number(days.value) * 86400;
    try {
      const env = await api('POST', '/api/v1/tokens', body);
      const secret = env.data.token;
      const out = h('code', { class: 'secret', id: 'new-token' }, secret);
      clear(secretArea).appendChild(h('div', { class: 'notice notice-ok', role: 'status' },
        h('p', {}, h('strong', {}, `Token "${env.data.name}" created. `), 'Copy it now: it is not shown again.'),
        h('p', {}, out, ' ', h('button', { type: 'button', class: 'btn btn-small', onClick: async () => {
          try {
            await navigator.clipboard.writeText(secret);
            toast('token copied', 'ok');
          } catch {
            const range = document.createRange();
            range.selectNodeContents(out);
            const sel = window.getSelection();
            sel.removeAllRanges();
            sel.addRange(range);
            toast('select the token and copy it with Ctrl+C');
          }
        } }, 'Copy'))));
      name.value = '';
      await load();
    } catch (err) {
      toast(err instanceof ApiError ? err.message : String(err), 'error');
    }
  } },
  h('h2', {}, 'New token'),
  h('div', { class: 'form-row' },
    h('label', { for: 'token-name' }, 'Name'), name,
    h('label', { for: 'token-role' }, 'Role'), role,
    h('label', { for: 'token-days' }, 'Expires after (days)'), days,
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create token')));

  add(root,
    h('div', { class: 'page-head' }, h('h1', {}, 'API tokens')),
    h('p', { class: 'muted' }, 'Scripts send a token as ', h('code', {}, 'Authorization: Bearer att_…'),
      '. A token acts with its role, never more than its owner\'s; changing the owner\'s password, role or account revokes it.'),
    form, secretArea, tableWrap);

  async function load() {
    const env = await api('GET', '/api/v1/tokens');
    if (!ctx.alive()) return;
    const tokens = Array.isArray(env.data) ? env.data : [];
    clear(tableWrap).appendChild(tokens.length
      ? h('table', { class: 'data tokens-table' },
        h('thead', {}, h('tr', {}, ['Name', 'Role', 'Owner', 'Created', 'Expires', 'Last used', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, tokens.map((t) => h('tr', { dataset: { token: t.id } },
          h('td', {}, t.name),
          h('td', {}, t.role),
          h('td', {}, t.owner),
          h('td', {}, h('time', { datetime: t.created, title: fmtTime(t.created) }, timeAgo(t.created))),
          h('td', {}, t.expires ? fmtTime(t.expires) : 'never'),
          h('td', {}, t.last_used ? timeAgo(t.last_used) : 'never'),
          h('td', {}, h('button', { type: 'button', class: 'btn btn-small btn-danger', onClick: async () => {
            if (!window.confirm(`Revoke token "${t.name}"? Scripts using it stop working at once.`)) return;
            try {
              await api('DELETE', `/api/v1/tokens/${enc(t.id)}`);
              toast(`token "${t.name}" revoked`, 'ok');
              await load();
            } catch (err) {
              toast(err instanceof ApiError ? err.message : String(err), 'error');
            }
          } }, 'Revoke'))))))
      : h('p', { class: 'empty' }, 'No API tokens yet.'));
  }
  await load();
}
