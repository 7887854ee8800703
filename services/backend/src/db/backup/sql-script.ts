/**
 * Reading and writing plain-SQL dumps line by line, so neither a backup nor a restore holds a
 * whole database in memory.
 */

/** Lines of a UTF-8 text stream, split on "\n" only: a "\r" inside a string value is data, not a line end. */
export async function* linesOf(chunks: Iterable<string | Buffer> | AsyncIterable<string | Buffer>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of chunks) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = pending.indexOf('\n')) !== -1) {
      yield pending.slice(0, end);
      pending = pending.slice(end + 1);
    }
  }
  pending += decoder.decode();
  if (pending) yield pending;
}

/**
 * pg_dump writes the SET lines of its own version. pg_dump 17 and newer (PGlite's is 18) start with
 * `SET transaction_timeout = 0;`, a setting PostgreSQL 15 and 16 do not know, so `psql -v
 * ON_ERROR_STOP=1` stops there. It sets the default, so leaving it out changes nothing. Only the
 * preamble is filtered (before the first object), never a line of data.
 */
const SETTINGS_OLDER_SERVERS_REJECT = /^SET transaction_timeout = /;

export async function* restorableOnOlderServers(lines: AsyncIterable<string>): AsyncGenerator<string> {
  let inPreamble = true;
  for await (const line of lines) {
    if (inPreamble && /^(CREATE|ALTER|INSERT|-- Name:|-- Data for Name:)/.test(line)) inPreamble = false;
    if (inPreamble && SETTINGS_OLDER_SERVERS_REJECT.test(line)) continue;
    yield line;
  }
}

/**
 * Splits a plain-SQL dump into statements, as psql would: semicolons inside quotes, quoted
 * identifiers, dollar quotes and comments do not end a statement. psql meta-commands (pg_dump's
 * `\restrict` and `\unrestrict` lines) are skipped: they are instructions to psql, not SQL.
 */
export class SqlStatementSplitter {
  private current = '';
  /** Inside a literal: `'`, `E'` (backslash escapes), `"`, or a dollar-quote tag like `$body$`. */
  private quote: string | null = null;
  private commentDepth = 0;

  /** Feeds one line (without its "\n"); returns the statements it completed. */
  push(line: string): string[] {
    const done: string[] = [];
    if (this.quote === null && this.commentDepth === 0 && this.current.trim() === '' && line.startsWith('\\')) return done;
    let i = 0;
    let start = 0;
    const take = (end: number) => {
      this.current += line.slice(start, end);
      start = end;
    };
    while (i < line.length) {
      const char = line[i]!;
      const next = line[i + 1];
      if (this.commentDepth > 0) {
        if (char === '*' && next === '/') {
          this.commentDepth--;
          i += 2;
        } else if (char === '/' && next === '*') {
          this.commentDepth++;
          i += 2;
        } else i++;
        continue;
      }
      if (this.quote === "'" || this.quote === '"' || this.quote === "E'") {
        const closing = this.quote === '"' ? '"' : "'";
        if (this.quote === "E'" && char === '\\') i += 2;
        else if (char === closing && next === closing) i += 2;
        else if (char === closing) {
          this.quote = null;
          i++;
        } else i++;
        continue;
      }
      if (this.quote !== null) {
        if (line.startsWith(this.quote, i)) {
          i += this.quote.length;
          this.quote = null;
        } else i++;
        continue;
      }
      if (char === '-' && next === '-') {
        take(i);
        start = line.length;
        break;
      }
      if (char === '/' && next === '*') {
        this.commentDepth = 1;
        i += 2;
      } else if (char === "'") {
        const previous = line[i - 1];
        this.quote = (previous === 'E' || previous === 'e') && !/[A-Za-z0-9_]/.test(line[i - 2] ?? '') ? "E'" : "'";
        i++;
      } else if (char === '"') {
        this.quote = '"';
        i++;
      } else if (char === '$' && !/[A-Za-z0-9_]/.test(line[i - 1] ?? '')) {
        const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(line.slice(i))?.[0];
        if (tag) {
          this.quote = tag;
          i += tag.length;
        } else i++;
      } else if (char === ';') {
        take(i + 1);
        i++;
        const statement = this.current.trim();
        if (statement !== ';') done.push(statement);
        this.current = '';
      } else i++;
    }
    take(line.length);
    if (this.current.trim() !== '' || this.quote !== null) this.current += '\n';
    return done;
  }

  /** Throws when the script ended inside a statement (a truncated file). */
  finish(): void {
    if (this.quote !== null || this.commentDepth > 0 || this.current.trim() !== '') {
      throw new Error('The backup ends in the middle of a statement: the file is incomplete.');
    }
  }
}

/** Statements of the script, grouped into batches of about `batchBytes` to send in one round trip. */
export async function* statementBatches(lines: AsyncIterable<string>, batchBytes = 1 << 20): AsyncGenerator<string> {
  const splitter = new SqlStatementSplitter();
  let batch: string[] = [];
  let size = 0;
  for await (const line of lines) {
    for (const statement of splitter.push(line)) {
      batch.push(statement);
      size += statement.length;
      if (size >= batchBytes) {
        yield batch.join('\n');
        batch = [];
        size = 0;
      }
    }
  }
  splitter.finish();
  if (batch.length > 0) yield batch.join('\n');
}
