import type { Selectable } from 'kysely';
import type { Criticality, IssueKind } from '../core/health/types.ts';
import type { HealthIssue, IssueEvidence, NewHealthIssue } from '../core/model/health-issue.ts';
import { isUniqueViolationError } from './dialects/store-dialect.ts';
import { newestFirst } from './newest-first.ts';
import type { HealthIssuesTable } from './schema.ts';
import { dbOf } from './store-db.ts';
import type { Store } from './store.ts';

// Health issues (migration 002): one row per opening, kept after it resolves (the flip history).
// A partial unique index keeps one open issue per kind and subject across replicas.

export async function openHealthIssues(store: Store): Promise<HealthIssue[]> {
  const rows = await dbOf(store).selectFrom('health_issues').selectAll().where('resolved_at', 'is', null).orderBy('id').execute();
  return rows.map(toHealthIssue);
}

export async function healthIssues(store: Store, opts: { includeResolved?: boolean; limit?: number } = {}): Promise<HealthIssue[]> {
  let q = dbOf(store).selectFrom('health_issues').selectAll();
  if (!opts.includeResolved) q = q.where('resolved_at', 'is', null);
  const rows = await newestFirst(q, opts.limit ?? 1000);
  return rows.map(toHealthIssue);
}

export async function healthIssue(store: Store, id: number): Promise<HealthIssue | undefined> {
  const row = await dbOf(store).selectFrom('health_issues').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toHealthIssue(row) : undefined;
}

/** How many times an issue of this kind and subject opened since `since` (flapping). */
export async function issueOpenCounts(store: Store, since: number): Promise<Map<string, number>> {
  const rows = await dbOf(store)
    .selectFrom('health_issues')
    .select(['kind', 'subject', (eb) => eb.fn.countAll<number>().as('n')])
    .where('opened_at', '>=', since)
    .groupBy(['kind', 'subject'])
    .execute();
  return new Map(rows.map((r) => [`${r.kind}|${r.subject}`, Number(r.n)]));
}

/**
 * Opens an issue unless another replica already has it open (the partial unique index decides).
 * Returns the new issue, or undefined when it was already open.
 */
export async function openHealthIssue(store: Store, issue: NewHealthIssue): Promise<HealthIssue | undefined> {
  try {
    const row = await dbOf(store)
      .insertInto('health_issues')
      .values({
        kind: issue.kind,
        criticality: issue.criticality,
        subject: issue.subject,
        bouncer_name: issue.bouncerName,
        opened_at: issue.openedAt,
        last_seen_at: issue.openedAt,
        resolved_at: null,
        since: issue.since,
        summary: issue.summary,
        evidence: JSON.stringify(issue.evidence),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toHealthIssue(row);
  } catch (e) {
    if (isUniqueViolationError(e)) return undefined;
    throw e;
  }
}

/**
 * Refreshes an open issue; with `kind` and `criticality`, moves it to another stage of its incident
 * (late → offline, health/engine.ts). Returns false when that stage is already open for the subject
 * (another replica opened it: the partial unique index decides).
 */
export async function touchHealthIssue(
  store: Store,
  id: number,
  update: { lastSeenAt: number; summary: string; since: number; evidence: IssueEvidence; kind?: IssueKind; criticality?: Criticality },
): Promise<boolean> {
  const stage = update.kind !== undefined && update.criticality !== undefined ? { kind: update.kind, criticality: update.criticality } : {};
  try {
    await dbOf(store)
      .updateTable('health_issues')
      .set({ last_seen_at: update.lastSeenAt, summary: update.summary, since: update.since, evidence: JSON.stringify(update.evidence), ...stage })
      .where('id', '=', id)
      .where('resolved_at', 'is', null)
      .execute();
    return true;
  } catch (e) {
    if (isUniqueViolationError(e)) return false;
    throw e;
  }
}

export async function resolveHealthIssue(store: Store, id: number, at: number): Promise<boolean> {
  const res = await dbOf(store).updateTable('health_issues').set({ resolved_at: at }).where('id', '=', id).where('resolved_at', 'is', null).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}

/**
 * A row as the domain reads it. Kind and criticality are the text this code wrote from typed
 * values (openHealthIssue, touchHealthIssue take IssueKind and Criticality); one written by a newer
 * Vigil keeps its text, and the readers fall back to it for titles (ISSUE_CATALOGUE[kind] ?? kind).
 */
export function toHealthIssue(r: Selectable<HealthIssuesTable>): HealthIssue {
  return {
    id: Number(r.id),
    kind: r.kind as IssueKind,
    criticality: r.criticality as Criticality,
    subject: r.subject,
    bouncerName: r.bouncer_name,
    openedAt: Number(r.opened_at),
    lastSeenAt: Number(r.last_seen_at),
    resolvedAt: r.resolved_at === null ? null : Number(r.resolved_at),
    since: Number(r.since),
    summary: r.summary,
    evidence: toEvidence(r.evidence),
  };
}

/** The evidence column (JSON); a row from before notes existed has none. */
function toEvidence(text: string): IssueEvidence {
  const parsed: Partial<IssueEvidence> | null = JSON.parse(text);
  return { causes: parsed?.causes ?? [], notes: parsed?.notes ?? [] };
}
