import type { Context } from 'hono';
import type { z } from 'zod';
import { VigilError } from './errors.ts';

/**
 * A route's JSON body, validated by its zod schema: a body that is not JSON, not an object, or has a
 * field of the wrong type is refused (400 through lib/http-errors.ts) naming the field, with an
 * example of what to send. An empty body reads as `{}`, so every field may be optional.
 */
export async function readJsonBody<S extends z.ZodType>(c: Context, schema: S, example: string): Promise<z.infer<S>> {
  const text = await c.req.text();
  let data: unknown = {};
  if (text.trim() !== '') {
    try {
      data = JSON.parse(text);
    } catch {
      throw new VigilError('E_BAD_BODY', `body: send a JSON object (this is not JSON), e.g. ${example}`);
    }
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new VigilError('E_BAD_BODY', `body: send a JSON object, e.g. ${example}`);
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.') || 'body';
    throw new VigilError('E_BAD_BODY', `${key}: ${issue.message}; e.g. ${example}`);
  }
  return parsed.data;
}
