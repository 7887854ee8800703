/**
 * `npm run plugins:accept-schema -- <plugin id>`: after an operator changed a plugin's tables by hand
 * (a rename or drop Groundwork refuses to do), records the plugin's current code as applied, so the
 * next boot compares against it. Runs no DDL. Stop the servers first (PGlite refuses otherwise).
 */
import { loadConfig } from '../config.ts';
import { loadPlugins } from '../plugins/loader.ts';
import { fingerprintOf, recordAppliedSchema, snapshotOf } from '../plugins/schema-sync.ts';
import { runCli, withInstanceDatabase } from './instance-database.ts';

runCli(async () => {
  const id = process.argv[2];
  if (!id) throw new Error('Name the plugin: npm run plugins:accept-schema -- <plugin id>');
  const { plugins, refused } = await loadPlugins(loadConfig().pluginsDir, []);
  const plugin = plugins.find((candidate) => candidate.id === id);
  if (!plugin) {
    const why = refused.find((refusal) => refusal.id === id)?.message;
    throw new Error(why ?? `No plugin "${id}" in PLUGINS_DIR (found: ${plugins.map((p) => p.id).join(', ') || 'none'}).`);
  }
  const snapshot = await snapshotOf(plugin);
  const hash = fingerprintOf(plugin);
  await withInstanceDatabase(async ({ session }) => {
    await recordAppliedSchema(session.db, plugin, snapshot, hash);
  });
  console.log(`Recorded the current tables of plugin ${id} (${plugin.version}) as applied. The next boot sends it no DDL for them.`);
});
