/**
 * Run by `npm run build` after the compiler: makes the embedded database template for this
 * release (db/drivers/pglite-template.ts), so the first PGlite setup copies a folder instead of
 * running initdb (an empty one for moves and restores), and removes the templates of earlier
 * builds. Quick when both are current.
 */
import { DEFAULT_TEMPLATE_SOURCE, EMPTY_TEMPLATE_SOURCE, ensurePgliteTemplate, removeOtherTemplates } from '../db/drivers/pglite-template.ts';
import { PGLITE_TEMPLATE_ROOT } from '../paths.ts';
import { runCli } from './instance-database.ts';

runCli(async () => {
  // One after the other: each runs initdb in a worker, and the build machine may be small.
  const path = await ensurePgliteTemplate(DEFAULT_TEMPLATE_SOURCE);
  const empty = await ensurePgliteTemplate(EMPTY_TEMPLATE_SOURCE);
  removeOtherTemplates(PGLITE_TEMPLATE_ROOT, [DEFAULT_TEMPLATE_SOURCE, EMPTY_TEMPLATE_SOURCE]);
  console.log(`Embedded database template: ${path}`);
  console.log(`Empty embedded database template (moves, restores): ${empty}`);
});
