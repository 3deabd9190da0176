/**
 * The one way Vigil prints a URL, or a message that may hold one: a password between `user:` and
 * the host's `@` and the value of a password-like query parameter (`?password=`, `sslpassword=`,
 * `token=`…) become `***`. Works on any scheme (postgres, mysql, http) and on several URLs in one
 * error message; text that is not a URL passes unchanged.
 */
const USERINFO_PASSWORD = /(\/\/[^:/?#\s@"']*):[^/?#\s"']*@/g;
const SECRET_PARAMS = /([?&;](?:password|passwd|pwd|sslpassword|pass|token|access_token|secret|api_?key)=)[^&#\s"']*/gi;

export function redactUrl(text: string): string {
  return text.replace(USERINFO_PASSWORD, '$1:***@').replace(SECRET_PARAMS, '$1***');
}

/**
 * A driver error about `url` for printing: the URL's redacted form, and its password removed even
 * where the driver quoted it without the URL around it.
 */
export function redactSecretsOf(url: string, message: string): string {
  let out = redactUrl(message);
  for (const secret of secretsIn(url)) out = out.split(secret).join('***');
  return out;
}

function secretsIn(url: string): string[] {
  const found: string[] = [];
  try {
    const u = new URL(url);
    if (u.password) found.push(u.password, decodeURIComponent(u.password));
    for (const [k, v] of u.searchParams) if (/^(password|passwd|pwd|sslpassword|pass|token|secret)$/i.test(k) && v) found.push(v);
  } catch {
    // not a URL: nothing beyond the pattern above
  }
  // Longest first, and never a 1–2 character "secret" that would shred the message.
  return [...new Set(found)].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
}
