/**
 * Run by `npm run build` after the compiler: makes the embedded database template for this
 * release (db/drivers/pglite-template.ts), so the first PGlite setup copies a folder instead of
 * running initdb, and removes the templates of earlier builds. Quick when the template is current.
 */
import { ensurePgliteTemplate, removeOtherTemplates } from '../db/drivers/pglite-template.ts';
import { runCli } from './instance-database.ts';

runCli(async () => {
  const path = await ensurePgliteTemplate();
  removeOtherTemplates();
  console.log(`Embedded database template: ${path}`);
});
