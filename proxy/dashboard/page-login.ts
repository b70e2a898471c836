// The login page: the operator's admin token or a customer's key, each in a POST form (never in
// a URL). A failed attempt re-renders the page with the reason, status 401.

import { html } from './html.js';
import { page } from './layout.js';

export function loginPage(opts: { operator: boolean; error?: string }): string {
  const body = html`
${opts.error ? html`<p class="error" role="alert">${opts.error}</p>` : ''}
${
  opts.operator
    ? html`<form method="post" action="/dashboard/login" class="login" aria-labelledby="h-op">
<h2 id="h-op">Operator</h2>
<input type="hidden" name="role" value="operator">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button>
</form>`
    : ''
}
<form method="post" action="/dashboard/login" class="login" aria-labelledby="h-cu">
<h2 id="h-cu">Customer</h2>
<input type="hidden" name="role" value="customer">
<label for="key">Your tollgate API key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required>
<button type="submit">See my usage</button>
</form>`;
  return page({ title: 'Log in', session: 'none', body });
}

export function errorPage(title: string, message: string): string {
  return page({ title, session: 'none', body: html`<p class="error" role="alert">${message}</p><p><a href="/dashboard/login">Log in</a></p>` });
}
