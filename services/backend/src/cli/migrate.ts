/**
 * `npm run db:migrate`: applies pending migrations to this instance's database from the command
 * line, under the same lock the server uses and with the same check of the history as its boot:
 * a database ahead of this release or with a diverged history is refused, nothing changed.
 */
import { readJournal, type SchemaComparison } from '../db/migrations.ts';
import { SchemaDivergedError } from '../errors.ts';
import { runCli, withInstanceDatabase } from './instance-database.ts';

runCli(async () => {
  await withInstanceDatabase(async ({ type, driver, session }) => {
    let comparison: SchemaComparison;
    try {
      comparison = await session.migrate();
    } catch (error) {
      if (error instanceof SchemaDivergedError) throw new Error(`Refused: ${error.message} Nothing was changed.`, { cause: error });
      throw error;
    }
    const where = `the ${type} database at ${driver.target}`;
    if (comparison.schema === 'ahead') {
      throw new Error(
        `Refused: ${where} is ahead of this release: a newer release applied ${comparison.unknown.join(', ')}, which this one does not know. ` +
          'Nothing was changed; run db:migrate with the release that applied them (or a newer one).',
      );
    }
    if (comparison.pending === 0) {
      console.log(`No pending migrations: ${where} is up to date.`);
      return;
    }
    const applied = readJournal().slice(-comparison.pending).map((entry) => entry.tag);
    console.log(`Applied ${applied.length} migration(s) to ${where}: ${applied.join(', ')}.`);
  });
});
