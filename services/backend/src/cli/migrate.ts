/**
 * `npm run db:migrate`: applies pending migrations to this instance's database from the command
 * line, under the same lock the server uses.
 */
import { runCli, withInstanceDatabase } from './instance-database.ts';

runCli(async () => {
  await withInstanceDatabase(async ({ type, driver, session }) => {
    await session.migrate();
    console.log(`Migrations applied to the ${type} database at ${driver.target}.`);
  });
});
