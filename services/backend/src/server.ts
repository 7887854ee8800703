import { deriveKeyAtProcessStart } from './global-settings/early-key.ts';

// Process entry. The settings key (scrypt, in the thread pool) is derived while the app's
// modules load, so a boot does not wait for it after listening; main.ts is the server itself.
deriveKeyAtProcessStart();
await import('./main.ts');
