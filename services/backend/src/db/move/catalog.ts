import { rowsOf, quoteIdent, type Executor } from './sql.ts';

// Schemas PostgreSQL itself owns: everything else is the application's (public, drizzle, …).
const USER_SCHEMAS = `n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%'`;

export interface TableShape {
  /** schema.table, quoted: ready to put in a statement. */
  readonly qualified: string;
  /** schema.table, plain: for messages and progress. */
  readonly name: string;
  readonly columns: readonly { name: string; type: string; generated: boolean }[];
}

/** The application's tables and their columns in column order. */
export async function readTables(db: Executor): Promise<TableShape[]> {
  const rows = await rowsOf<{ schema: string; table: string; column: string; type: string; generated: string }>(
    db,
    `select n.nspname as schema, c.relname as table, a.attname as column, format_type(a.atttypid, a.atttypmod) as type, a.attgenerated::text as generated
       from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_attribute a on a.attrelid = c.oid
      where c.relkind = 'r' and a.attnum > 0 and not a.attisdropped and ${USER_SCHEMAS}
      order by n.nspname, c.relname, a.attnum`,
  );
  const tables = new Map<string, { qualified: string; name: string; columns: TableShape['columns'][number][] }>();
  for (const row of rows) {
    const name = `${row.schema}.${row.table}`;
    let table = tables.get(name);
    if (!table) tables.set(name, (table = { qualified: `${quoteIdent(row.schema)}.${quoteIdent(row.table)}`, name, columns: [] }));
    table.columns.push({ name: row.column, type: row.type, generated: row.generated !== '' });
  }
  return [...tables.values()];
}

/** The columns a copy writes, quoted, in the table's order: generated columns compute themselves; identity columns take the copied value. */
export function insertableColumns(table: TableShape): string {
  return table.columns.filter((column) => !column.generated).map((column) => quoteIdent(column.name)).join(', ');
}

/** Where two databases' tables differ (missing tables, missing or retyped columns); empty when they match. */
export function shapeDifferences(source: readonly TableShape[], target: readonly TableShape[]): string[] {
  const problems: string[] = [];
  const targets = new Map(target.map((table) => [table.name, table]));
  for (const table of source) {
    const built = targets.get(table.name);
    targets.delete(table.name);
    if (!built) {
      problems.push(`table ${table.name} is not created by this release's migrations and plugin schemas`);
      continue;
    }
    const builtColumns = new Map(built.columns.map((column) => [column.name, column.type]));
    for (const column of table.columns) {
      const type = builtColumns.get(column.name);
      builtColumns.delete(column.name);
      if (type === undefined) problems.push(`column ${table.name}.${column.name} is missing`);
      else if (type !== column.type) problems.push(`column ${table.name}.${column.name} is ${column.type} but would be ${type}`);
    }
    for (const extra of builtColumns.keys()) problems.push(`column ${table.name}.${extra} would be added`);
  }
  for (const extra of targets.keys()) problems.push(`table ${extra} would be added`);
  return problems;
}

interface ForeignKey {
  table: string;
  name: string;
  definition: string;
}

/** Foreign keys between the application's tables, with the definition to add each back. */
export function readForeignKeys(db: Executor): Promise<ForeignKey[]> {
  return rowsOf<ForeignKey>(
    db,
    `select format('%I.%I', n.nspname, c.relname) as table, k.conname as name, pg_get_constraintdef(k.oid) as definition
       from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
      where k.contype = 'f' and ${USER_SCHEMAS}
      order by 1, 2`,
  );
}

export interface SequenceInfo {
  /** schema.sequence, quoted. */
  sequence: string;
  /** The column that owns it (serial, identity), quoted, or null for a free-standing sequence. */
  ownerTable: string | null;
  ownerColumn: string | null;
}

export function readSequences(db: Executor): Promise<SequenceInfo[]> {
  return rowsOf<SequenceInfo>(
    db,
    `select format('%I.%I', n.nspname, s.relname) as "sequence",
            case when t.oid is null then null else format('%I.%I', tn.nspname, t.relname) end as "ownerTable", quote_ident(a.attname) as "ownerColumn"
       from pg_class s join pg_namespace n on n.oid = s.relnamespace
       left join pg_depend d on d.classid = 'pg_class'::regclass and d.objid = s.oid and d.refclassid = 'pg_class'::regclass and d.deptype in ('a', 'i')
       left join pg_class t on t.oid = d.refobjid
       left join pg_namespace tn on tn.oid = t.relnamespace
       left join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
      where s.relkind = 'S' and ${USER_SCHEMAS}
      order by 1`,
  );
}
