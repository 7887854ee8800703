import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RUNNING_COMPILED } from '../paths.ts';
import type { GroundworkPlugin } from './define.ts';
import { claimNames, namingProblems } from './names.ts';

// The file each loaded plugin came from: a worker imports it again to read its tables.
const sourceFiles = new WeakMap<GroundworkPlugin, string>();

/** The file `plugin` was loaded from (undefined for one made in-process, e.g. by a test). */
export function pluginFileOf(plugin: GroundworkPlugin): string | undefined {
  return sourceFiles.get(plugin);
}

export interface RefusedPlugin {
  /** The plugin's id when it got that far, else its file or folder name. */
  id: string;
  message: string;
}

/**
 * Loads every plugin in `folder`: each `<name>/index.ts` or `<name>.ts` (or `.js`, `.mjs`) with a
 * definePlugin default export. Where a plugin has both, the compiled server takes the JavaScript
 * and the sources (tsx, vitest) take the TypeScript. A plugin that fails to load, has a bad or
 * duplicate id, or names anything outside its prefix is refused with a message naming it; the
 * others load.
 */
export async function loadPlugins(folder: string, reservedNames: readonly string[]): Promise<{ plugins: GroundworkPlugin[]; refused: RefusedPlugin[] }> {
  const plugins: GroundworkPlugin[] = [];
  const refused: RefusedPlugin[] = [];
  if (!existsSync(folder)) return { plugins, refused };
  const taken = new Map(reservedNames.map((name) => [name, 'the core']));

  for (const entry of readdirSync(folder).sort()) {
    const path = join(folder, entry);
    const source = entry.replace(/\.(ts|js|mjs)$/, '');
    // A folder's index file, or a single file (the one preferred when `<name>.ts` and `<name>.js` are both there).
    const file = statSync(path).isDirectory() ? pluginEntry(path) : path;
    if (!file || !/\.(ts|js|mjs)$/.test(file) || /\.(d|test)\.ts$/.test(file)) continue;
    if (file === path && pluginEntry(folder, source) !== path) continue;
    let plugin: GroundworkPlugin;
    try {
      // Its import of the API's .ts sources would load a second copy of the core beside the compiled one.
      if (RUNNING_COMPILED && file.endsWith('.ts')) throw new Error('the compiled server loads JavaScript plugins only: compile it to .js (docs/plugins.md)');
      plugin = ((await import(pathToFileURL(file).href)) as { default?: GroundworkPlugin }).default as GroundworkPlugin;
      if (!plugin || typeof plugin.id !== 'string' || typeof plugin.tables !== 'object') {
        throw new Error('its default export is not a plugin: export default definePlugin({ … })');
      }
    } catch (error) {
      refused.push({ id: source, message: `Plugin ${source} (${file}) could not be loaded: ${(error as Error).message}` });
      continue;
    }
    if (plugins.some((other) => other.id === plugin.id)) {
      refused.push({ id: plugin.id, message: `Plugin ${plugin.id} (${file}): another plugin already uses the id "${plugin.id}".` });
      continue;
    }
    const problems = namingProblems(plugin, taken);
    if (problems.length > 0) {
      refused.push({ id: plugin.id, message: `Plugin ${plugin.id}: ${problems.join('; ')}.` });
      continue;
    }
    claimNames(plugin, taken);
    sourceFiles.set(plugin, file);
    plugins.push(plugin);
  }
  return { plugins, refused };
}

// The compiled server prefers a plugin's JavaScript; the sources prefer its TypeScript.
const EXTENSIONS = RUNNING_COMPILED ? ['.js', '.mjs', '.ts'] : ['.ts', '.js', '.mjs'];

/** `<dir>/<base>.js|.mjs|.ts` in the order above: the file a plugin loads from, if any. */
function pluginEntry(dir: string, base = 'index'): string | undefined {
  return EXTENSIONS.map((extension) => join(dir, base + extension)).find((file) => existsSync(file));
}
