import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { insertableColumns, type TableShape } from './catalog.ts';
import { rowsOf, type Executor } from './sql.ts';

/**
 * Heap pages of the source table read per chunk (8 MB): a chunk is one statement and one buffer,
 * large enough that the per-statement cost vanishes, small enough to keep memory flat.
 */
export const DEFAULT_CHUNK_PAGES = 1_024;
/** 512 kB: a running server's move reads its own PGlite between its requests' queries, which wait at most one chunk. */
export const SHARED_CHUNK_PAGES = 64;

/**
 * Copies one table from a PGlite source into a PostgreSQL target with COPY on both sides: PGlite
 * renders a range of the table's pages in COPY's text format (`COPY … TO '/dev/blob'`, one chunk
 * at a time, never the whole table), and the chunk goes straight into `COPY … FROM STDIN` on the
 * target's connection. The target parses the text as it parses any COPY; nothing is re-encoded here.
 * Reading by page ranges (a TID range scan) needs no cursor: each chunk is a statement of its own,
 * so it works in one snapshot and in short per-statement transactions alike.
 */
export async function copyTableInBulk(
  source: Executor,
  copyFrom: (statement: string) => Writable,
  table: TableShape,
  chunkPages: number,
  onRows: (done: number) => void,
): Promise<number> {
  const [size] = await rowsOf<{ pages: number }>(source, sql`select (pg_relation_size(${table.qualified}::regclass) / current_setting('block_size')::int)::int as pages`);
  const columns = insertableColumns(table);
  const into = copyFrom(`copy ${table.qualified} (${columns}) from stdin`);
  // The target refused (a row, the connection): the stream reports it, and may again once it ends.
  let refused = false;
  const failed = new Promise<never>((_, reject) =>
    into.on('error', (error) => {
      refused = true;
      reject(error);
    }),
  );
  failed.catch(() => {});
  let done = 0;
  let drained: Promise<unknown> = Promise.resolve();
  try {
    for (let first = 0; first < Number(size!.pages); first += chunkPages) {
      const range = `ctid >= '(${first},0)'::tid and ctid < '(${first + chunkPages},0)'::tid`;
      const chunk = await copyOut(source, `copy (select ${columns} from ${table.qualified} where ${range}) to '/dev/blob'`);
      if (chunk.length === 0) continue;
      // The previous chunk went on flowing into the target while PGlite rendered this one; waiting
      // for it to drain here keeps at most two chunks in memory.
      await drained;
      drained = into.write(chunk) ? Promise.resolve() : Promise.race([once(into, 'drain'), failed]);
      done += countRows(chunk);
      onRows(done);
    }
    await drained;
    into.end();
    await Promise.race([once(into, 'finish'), failed]);
  } catch (error) {
    // Reading failed on this side: CopyFail takes the target's connection out of COPY, so the
    // transaction can roll back. (After the target's own error, its connection is out already.)
    if (!refused) into.destroy(error as Error);
    throw error;
  }
  return done;
}

/** PGlite's output of one `COPY … TO '/dev/blob'` (none when no row matched). */
async function copyOut(source: Executor, statement: string): Promise<Buffer> {
  const result = (await source.execute(sql.raw(statement))) as unknown as { blob?: Blob };
  return result.blob ? Buffer.from(await result.blob.arrayBuffer()) : Buffer.alloc(0);
}

/** Rows in COPY text: one per line (a newline inside a value is written as `\n`). */
function countRows(chunk: Buffer): number {
  let rows = 0;
  for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) rows++;
  return rows;
}
