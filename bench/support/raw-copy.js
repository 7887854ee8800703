// The baselines of the move and backup benchmarks (#10, #11): the fastest raw way we know to get
// the same rows out of a PGlite folder, as plain JavaScript run by node. Prints one JSON line.
//   node raw-copy.js copy PGLITE_DIR POSTGRES_URL TABLE   PGlite COPY TO → psql COPY FROM STDIN
//                                                         (without psql: 10,000-row INSERTs with pg)
//   node raw-copy.js dump PGLITE_DIR OUT_FILE             every table's COPY TO output into a file
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

const [mode, dataDir, where, table] = process.argv.slice(2);
const source = await PGlite.create(dataDir);

/** One table's rows in COPY's text format, straight out of PGlite. */
async function copyOut(name) {
  const result = await source.query(`copy ${name} to '/dev/blob'`);
  // An empty table gives no blob.
  return result.blob ? Buffer.from(await result.blob.arrayBuffer()) : Buffer.alloc(0);
}

if (mode === 'copy') {
  // The target table as the move builds it (its columns, key and index), then one COPY into it.
  const { rows } = await source.query(
    `select string_agg(format('%I %s', attname, format_type(atttypid, atttypmod)), ', ' order by attnum) as columns
       from pg_attribute where attrelid = $1::regclass and attnum > 0 and not attisdropped`,
    [table],
  );
  const indexes = await source.query(`select indexdef from pg_indexes where tablename = $1`, [table]);
  const ddl = [`create table ${table} (${rows[0].columns})`, ...indexes.rows.map((row) => row.indexdef.replace(/ ON \w+\./, ' ON '))];
  if (spawnSync('psql', ['--version']).status === 0) {
    const data = await copyOut(table);
    const psql = spawn('psql', ['-q', '-v', 'ON_ERROR_STOP=1', '-1', where, ...[...ddl, `copy ${table} from stdin`].flatMap((statement) => ['-c', statement])], {
      stdio: ['pipe', 'inherit', 'inherit'],
    });
    psql.stdin.end(data);
    const code = await new Promise((resolve) => psql.once('exit', resolve));
    if (code !== 0) throw new Error(`psql exited with ${code}`);
    console.log(JSON.stringify({ method: 'PGlite COPY TO, psql COPY FROM STDIN', bytes: data.length }));
  } else {
    const { rows: all } = await source.query(`select t::text as r from ${table} t`);
    const target = new pg.Client({ connectionString: where });
    await target.connect();
    await target.query('begin');
    for (const statement of ddl) await target.query(statement);
    for (let first = 0; first < all.length; first += 10_000) {
      const batch = all.slice(first, first + 10_000).map((row) => row.r);
      await target.query(`insert into ${table} select (r::${table}).* from unnest($1::text[]) r`, [batch]);
    }
    await target.query('commit');
    await target.end();
    console.log(JSON.stringify({ method: 'rows as text out of PGlite, 10,000-row INSERTs with pg (no psql here)' }));
  }
} else if (mode === 'dump') {
  const { rows } = await source.query(`select format('%I.%I', schemaname, tablename) as name from pg_tables where schemaname not in ('pg_catalog', 'information_schema') order by 1`);
  const parts = [];
  for (const row of rows) parts.push(await copyOut(row.name));
  const data = Buffer.concat(parts);
  writeFileSync(where, data);
  console.log(JSON.stringify({ bytes: data.length, tables: rows.length }));
} else {
  throw new Error(`unknown mode ${mode}`);
}
await source.close();
