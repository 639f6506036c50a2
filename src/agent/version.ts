// Replaced at bundle time by esbuild's `define` with package.json's version.
declare const __BITMESH_VERSION__: string | undefined;
export const AGENT_VERSION: string = typeof __BITMESH_VERSION__ === 'string' ? __BITMESH_VERSION__ : '0.0.0-dev';
