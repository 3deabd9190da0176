import { describe } from 'vitest';
import type { Store } from '../../src/store/store.ts';
import { DIALECTS, useFreshStore, type TestDialect } from './databases.ts';

/**
 * The same tests on every database (DIALECTS): one `DIALECT: title` block each, every test on a
 * fresh store that `current()` gives (opened before it, closed after it).
 */
export function describeOnEachDialect(title: string, body: (current: () => Store, dialect: TestDialect) => void): void {
  for (const dialect of DIALECTS) describe(`${dialect}: ${title}`, () => body(useFreshStore(dialect), dialect));
}
