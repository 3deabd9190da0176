import { sql, type ColumnDataType, type Expression } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

/** The one DDL difference that matters here: auto-increment ids (Kysely's own tests do the same). */
export function idColumn(dialect: Dialect): ColumnDataType | Expression<unknown> {
  return dialect === 'postgres' ? 'bigserial' : sql`integer`;
}
