import { sql, type ColumnDataType, type ColumnDefinitionBuilder, type CreateTableBuilder, type Expression, type Kysely } from 'kysely';
import { idColumn, type Dialect } from '../dialect.ts';
import type { Migration } from 'kysely/migration';

/**
 * Tables as data: a migration states its tables' columns and indexes, and these functions turn
 * them into Kysely's DDL. The statements are the ones the migrations wrote by hand before (the
 * schema snapshot test holds them to it), so a released store and a new one agree.
 */

export type ColumnType = 'text' | 'integer' | 'bigint';

/**
 * A column. Its type alone means NOT NULL without a default, the common case; the object form says
 * what differs. `'id'` is the auto-increment primary key (`idColumn`: the one DDL difference).
 */
export type Column =
  | ColumnType
  | 'id'
  | {
      readonly type: ColumnType;
      readonly nullable?: true;
      readonly unique?: true;
      readonly default?: string | number;
      /** A one-column primary key (no NOT NULL written: the key implies it, as before). */
      readonly primaryKey?: true;
      readonly references?: { readonly column: string; readonly onDelete: 'cascade' };
    };

export type Columns = Readonly<Record<string, Column>>;

export interface Index {
  readonly name: string;
  readonly columns: readonly string[];
  readonly unique?: true;
  /** A partial index over the rows where this column is null. */
  readonly whereNull?: string;
}

export interface Table {
  readonly name: string;
  readonly columns: Columns;
  /** A primary key over several columns, named `<table>_pk`. */
  readonly primaryKey?: readonly string[];
  readonly indexes?: readonly Index[];
}

function dataType(dialect: Dialect, column: Column): ColumnDataType | Expression<unknown> {
  if (column === 'id') return idColumn(dialect);
  return typeof column === 'string' ? column : column.type;
}

/** Kysely writes a column's constraints in its own fixed order, whatever order they are added in. */
function constraints(column: Column): (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder {
  return (c) => {
    if (column === 'id') return c.primaryKey();
    if (typeof column === 'string') return c.notNull();
    let b = column.primaryKey ? c.primaryKey() : column.nullable ? c : c.notNull();
    if (column.unique) b = b.unique();
    if (column.default !== undefined) b = b.defaultTo(column.default);
    if (column.references) b = b.references(column.references.column).onDelete(column.references.onDelete);
    return b;
  };
}

export async function createIndex(db: Kysely<any>, table: string, index: Index): Promise<void> {
  let b = db.schema
    .createIndex(index.name)
    .on(table)
    .columns([...index.columns]);
  if (index.unique) b = b.unique();
  if (index.whereNull) b = b.where(sql.ref(index.whereNull), 'is', null);
  await b.execute();
}

/** Creates the table, then its indexes. */
export async function createTable(db: Kysely<any>, dialect: Dialect, table: Table): Promise<void> {
  let b: CreateTableBuilder<string, string> = db.schema.createTable(table.name);
  for (const [name, column] of Object.entries(table.columns)) b = b.addColumn(name, dataType(dialect, column), constraints(column));
  if (table.primaryKey) b = b.addPrimaryKeyConstraint(`${table.name}_pk`, [...table.primaryKey]);
  await b.execute();
  for (const index of table.indexes ?? []) await createIndex(db, table.name, index);
}

/** Drops the tables in reverse order (a table before those it was created after). */
export async function dropTables(db: Kysely<any>, tables: readonly Table[]): Promise<void> {
  for (const t of [...tables].reverse()) await db.schema.dropTable(t.name).ifExists().execute();
}

/** Adds the columns to an existing table, one ADD COLUMN per statement (SQLite takes no more). */
export async function addColumns(db: Kysely<any>, dialect: Dialect, table: string, columns: Columns): Promise<void> {
  for (const [name, column] of Object.entries(columns)) {
    await db.schema.alterTable(table).addColumn(name, dataType(dialect, column), constraints(column)).execute();
  }
}

/** Drops the columns `addColumns` added, last first. */
export async function dropColumns(db: Kysely<any>, table: string, columns: Columns): Promise<void> {
  for (const name of Object.keys(columns).reverse()) await db.schema.alterTable(table).dropColumn(name).execute();
}

/**
 * The migration of a release that only added tables: creates them in order, then `fill` writes the
 * rows they start with; down drops them in reverse.
 */
export function tablesMigration(dialect: Dialect, tables: readonly Table[], fill?: (db: Kysely<any>) => Promise<void>): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      for (const table of tables) await createTable(db, dialect, table);
      await fill?.(db);
    },
    async down(db: Kysely<any>): Promise<void> {
      await dropTables(db, tables);
    },
  };
}

/**
 * The migration of a release that only added columns, per table: adds them in order; down drops
 * them last first.
 */
export function columnsMigration(dialect: Dialect, tables: Readonly<Record<string, Columns>>): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      for (const [table, columns] of Object.entries(tables)) await addColumns(db, dialect, table, columns);
    },
    async down(db: Kysely<any>): Promise<void> {
      for (const [table, columns] of Object.entries(tables).reverse()) await dropColumns(db, table, columns);
    },
  };
}
