/** JS's JSON.parse message in Go's words, for the common case (a body that does not start like JSON). */
export function goJsonError(text: string): string {
  const first = text.trimStart()[0];
  if (first === undefined) return 'unexpected end of JSON input';
  if (!'{["tfn-0123456789'.includes(first)) return `invalid character '${first}' looking for beginning of value`;
  return 'invalid JSON: the body does not parse';
}
