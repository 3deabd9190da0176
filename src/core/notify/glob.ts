/**
 * A name glob as operators write it for bouncers and machines: `*` matches any run of characters,
 * `?` exactly one; everything else is literal. Names have no path separators, so no `**` or `/` rules.
 */
export function globToRegExp(glob: string): RegExp {
  let body = '';
  for (const ch of glob) {
    if (ch === '*') body += '.*';
    else if (ch === '?') body += '.';
    else body += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${body}$`, 's');
}

export function isGlob(text: string): boolean {
  return text.includes('*') || text.includes('?');
}
