import { readFile } from 'node:fs/promises';
import type { PGliteOptions } from '@electric-sql/pglite';

type WasmModule = NonNullable<PGliteOptions['pgliteWasmModule']>;

/** What PGlite.create otherwise reads and compiles itself, each time: its WebAssembly module and its file-system bundle. */
export interface PgliteRuntime {
  pgliteWasmModule: WasmModule;
  fsBundle: Blob;
}

/*
 * Compiling PGlite's WebAssembly (9 MB) takes ~0.1 s of CPU, on V8's background threads. Started
 * early (before the server listens when it will open PGlite, or while it waits for the wizard), it
 * is done by the time PGlite starts. Only the files are read here, not PGlite's JavaScript: a
 * PostgreSQL server never loads that.
 */
// A global in Node; the project's TypeScript libraries (ES2023, no DOM) declare only its types.
const wasm = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<WasmModule> } }).WebAssembly;

let preloaded: Promise<PgliteRuntime | null> | null = null;

/** Starts reading and compiling PGlite's runtime in the background, for the next PGlite.create. */
export function preloadPgliteRuntime(): void {
  preloaded ??= loadPgliteRuntime();
}

/**
 * The preloaded runtime (waiting for it if still in flight), or one loaded now; null if it cannot
 * be (PGlite then loads its own). Handed to one PGlite.create and not kept: the instance holds the
 * module, and the 6 MB bundle is only read at start.
 */
export function takePgliteRuntime(): Promise<PgliteRuntime | null> {
  const runtime = preloaded ?? loadPgliteRuntime();
  preloaded = null;
  return runtime;
}

/** Lets a runtime preloaded for nothing (the server closes before opening PGlite) be collected. */
export function dropPgliteRuntime(): void {
  preloaded = null;
}

async function loadPgliteRuntime(): Promise<PgliteRuntime | null> {
  try {
    // The files PGlite itself loads, beside its entry point: the same package, so the same build.
    const dist = import.meta.resolve('@electric-sql/pglite');
    const [code, bundle] = await Promise.all([readFile(new URL('./pglite.wasm', dist)), readFile(new URL('./pglite.data', dist))]);
    return { pgliteWasmModule: await wasm.compile(code), fsBundle: new Blob([bundle]) };
  } catch {
    return null;
  }
}
