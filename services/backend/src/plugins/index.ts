// The plugin author's API: everything a plugin imports from Groundwork.
export { definePlugin, PLUGIN_ID_PATTERN } from './define.ts';
export type { GroundworkPlugin, PluginContext, PluginDefinition, PluginTableCreator } from './define.ts';
export { setting } from '../global-settings/define.ts';
