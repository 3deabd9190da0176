import { html, type Html } from '../html.ts';

export function loginPage(opts: { error?: string; next?: string }): Html {
  return html`<div class="login panel">
<h1>Log in to Vigil</h1>
<p class="hint">Use the dashboard password printed when <code>vigil serve</code> first started, or an admin token (<code>vigil admin token</code>). Lost the password? <code>vigil admin password</code> sets a new one.</p>
<form method="post" action="/ui/login">
  ${opts.next ? html`<input type="hidden" name="next" value="${opts.next}">` : ''}
  <label for="secret">Password or admin token</label>
  <input id="secret" name="secret" type="password" required autocomplete="current-password" autofocus${opts.error ? html` aria-invalid="true" aria-describedby="login-error"` : ''}>
  ${opts.error ? html`<p id="login-error" class="form-error" role="alert">${opts.error}</p>` : ''}
  <button type="submit">Log in</button>
</form>
</div>`;
}

/** A one-time login link (`vigil admin login-link`): a button, so a link preview or a scanner fetching the URL does not use it up. */
export function loginLinkPage(opts: { token?: string; error?: string }): Html {
  return html`<div class="login panel">
<h1>Log in to Vigil</h1>
${
  opts.error
    ? html`<p class="form-error" role="alert">${opts.error}</p>
<p class="hint">Make a new one on the server: <code>vigil admin login-link</code>. Or log in with the password at <a href="/ui/login">/ui/login</a>.</p>`
    : html`<p class="hint">A one-time login link from <code>vigil admin login-link</code>: it works once, and not after it expires.</p>
<form method="post" action="/ui/login-link">
  <input type="hidden" name="token" value="${opts.token ?? ''}">
  <button type="submit" autofocus>Log in</button>
</form>`
}
</div>`;
}
