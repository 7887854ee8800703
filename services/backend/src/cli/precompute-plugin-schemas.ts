/**
 * Part of `npm run build`, run compiled: writes beside each bundled compiled plugin
 * (dist/plugins/<id>/index.js) its tables' DDL and drizzle-kit snapshot (index.schema.json), keyed
 * by the tables' fingerprint. A first setup with unchanged bundled plugins then needs no drizzle-kit;
 * a plugin whose tables differ from the file still goes through drizzle-kit (in a worker).
 */
import { writeFileSync } from 'node:fs';
import { DEFAULT_PLUGINS_DIR } from '../paths.ts';
import { loadPlugins, pluginFileOf } from '../plugins/loader.ts';
import { precomputedSchemaFile, precomputeSchema } from '../plugins/schema-sync.ts';

const { plugins, refused } = await loadPlugins(DEFAULT_PLUGINS_DIR, []);
for (const refusal of refused) console.error(refusal.message);
for (const plugin of plugins) {
  const file = precomputedSchemaFile(pluginFileOf(plugin)!);
  writeFileSync(file, JSON.stringify(await precomputeSchema(plugin)) + '\n');
  console.log(`Plugin ${plugin.id}: ${file}`);
}
if (refused.length > 0) process.exitCode = 1;
