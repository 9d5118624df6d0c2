// Login page: exchanges login + password for tokens kept in sessionStorage.

import { h } from '../dom.js';
import { api, setSession, takeLoginMessage, ApiError } from '../api.js';

export async function loginView(root, _params, ctx) {
  ctx.setTitle('Sign in');
  const flash = takeLoginMessage();
  const next = ctx.query.get('next');
  const error = h('p', { class: 'form-error', role: 'alert', id: 'login-error' });
  const login = h('input', { id: 'login', name: 'login', autocomplete: 'username', required: true, value: 'admin', spellcheck: 'false', autocapitalize: 'off' });
  const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Sign in');
  const form = h('form', { class: 'login-form panel', 'aria-describedby': 'login-error' },
    h('h1', {}, 'Sign in to attune'),
    flash && h('p', { class: 'notice', role: 'status' }, flash),
    h('label', { for: 'login' }, 'Login'), login,
    h('label', { for: 'password' }, 'Password'), password,
    error,
    h('div', { class: 'form-actions' }, submit));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      const env = await api('POST', '/auth/login', { login: login.value.trim(), password: password.value }, { auth: false });
      const data = env.data || {};
      if (!data.access_token) throw new ApiError(500, 'INTERNAL', 'the server sent no token');
      setSession({ access_token: data.access_token, refresh_token: data.refresh_token, login: login.value.trim() });
      window.dispatchEvent(new Event('attune:signed-in'));
      const target = next && next.startsWith('/') && !next.startsWith('/login') ? next : '/packs';
      location.hash = `#${target}`;
    } catch (err) {
      error.textContent = err instanceof ApiError && err.status === 401
        ? 'wrong login or password'
        : (err && err.message) || 'sign-in failed';
      submit.disabled = false;
      submit.textContent = 'Sign in';
      password.select();
    }
  });
  root.appendChild(h('div', { class: 'login-wrap' }, form));
  (login.value ? password : login).focus();
}
