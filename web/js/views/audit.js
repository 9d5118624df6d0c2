// The audit log (admin): newest first, filtered by user, action, target
// and time, one page at a time.

import { h, add, clear, badge } from '../dom.js';
import { api } from '../api.js';
import { fmtTime, timeAgo } from '../format.js';

export async function auditView(root, _params, ctx) {
  ctx.setTitle('Audit log');
  const PER = 50;
  let page = Number(ctx.query.get('page')) || 1;
  const field = (id, label, attrs = {}) => {
    const input = h('input', { id, name: id, value: ctx.query.get(id) || '', autocomplete: 'off', ...attrs });
    return [h('label', { for: id }, label), input];
  };
  const [userL, user] = field('user', 'User');
  const [actionL, action] = field('action', 'Action', { placeholder: 'delete_pack' });
  const [targetL, target] = field('target', 'Target', { placeholder: 'pack ref or path' });
  const [sinceL, since] = field('since', 'Since', { type: 'datetime-local' });
  const tableWrap = h('div', { class: 'table-wrap' });
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  const form = h('form', { class: 'panel audit-filters', onSubmit: (e) => {
    e.preventDefault();
    page = 1;
    load();
  } }, h('div', { class: 'form-row' }, userL, user, actionL, action, targetL, target, sinceL, since,
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Filter')));
  add(root, h('div', { class: 'page-head' }, h('h1', {}, 'Audit log')), form, tableWrap, pager);

  async function load() {
    const q = new URLSearchParams({ page: String(page), per_page: String(PER) });
    if (user.value.trim()) q.set('user', user.value.trim());
    if (action.value.trim()) q.set('action', action.value.trim());
    if (target.value.trim()) q.set('target', target.value.trim());
    if (since.value) q.set('since', new Date(since.value).toISOString());
    const env = await api('GET', `/api/v1/audit?${q}`);
    if (!ctx.alive()) return;
    const rows = Array.isArray(env.data) ? env.data : [];
    const meta = env.meta || { page, total_pages: 1, total: rows.length };
    clear(tableWrap).appendChild(rows.length
      ? h('table', { class: 'data audit-table' },
        h('thead', {}, h('tr', {}, ['When', 'User', 'Via', 'Client', 'Action', 'Target', 'Outcome'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, rows.map((e) => h('tr', { dataset: { audit: e.id } },
          h('td', {}, h('time', { datetime: e.at, title: fmtTime(e.at) }, fmtTime(e.at)), h('span', { class: 'muted ago' }, timeAgo(e.at))),
          h('td', {}, e.user || '—'),
          h('td', {}, e.via || '—'),
          h('td', {}, e.client || '—'),
          h('td', {}, h('code', {}, e.action)),
          h('td', {}, h('code', {}, e.target)),
          h('td', {}, e.outcome === 'ok' ? badge('ok', 'ok') : badge('error', e.outcome))))))
      : h('p', { class: 'empty' }, 'No entries match.'));
    clear(pager);
    if ((meta.total_pages || 1) > 1) {
      add(pager,
        h('button', { type: 'button', class: 'btn btn-small', disabled: page <= 1, onClick: () => { page -= 1; load(); } }, 'Newer'),
        h('span', { class: 'muted' }, ` page ${meta.page} of ${meta.total_pages} (${meta.total} entries) `),
        h('button', { type: 'button', class: 'btn btn-small', disabled: page >= meta.total_pages, onClick: () => { page += 1; load(); } }, 'Older'));
    }
  }
  await load();

}
