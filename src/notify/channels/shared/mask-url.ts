/**
 * A URL safe to print: webhook URLs carry their token in the path (Slack's
 * `/services/T…/B…/XXXX`, Discord's `/api/webhooks/ID/TOKEN`) or the query, so only the scheme,
 * host, port and first path segment are shown; the rest becomes `***`.
 */
export function maskUrl(text: string): string {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return '***';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `${u.protocol}//***`;
  const userinfo = u.username || u.password ? '***@' : '';
  const segments = u.pathname.split('/').filter((s) => s !== '');
  let path = '';
  if (segments.length > 1) path = `/${segments[0]}/***`;
  else if (segments.length === 1) path = '/***';
  const query = u.search ? '?***' : '';
  return `${u.protocol}//${userinfo}${u.host}${path}${query}`;
}
