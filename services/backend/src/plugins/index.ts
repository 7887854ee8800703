// The plugin author's API: everything a plugin imports from Groundwork.
export { definePlugin, PLUGIN_ID_PATTERN } from './define.ts';
export type { GroundworkPlugin, PluginApp, PluginContext, PluginDefinition, PluginTableCreator } from './define.ts';
export { setting } from '../global-settings/define.ts';
// The core's TypeBox, so route schemas match the type provider's version wherever the plugin lives.
export { default as Type } from 'typebox';
/** The one error shape (`{ error, message }`) as a schema reference, for 4xx/5xx responses. */
export { errorRef } from '../schemas/common.ts';
