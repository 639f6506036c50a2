// node-wifi 2.x ships no types. Only what WifiScanSource uses is declared, and
// wifi-source.ts checks it at run time as well. The package is CommonJS: under ESM
// its module.exports is the default export, and `init()` replaces `exports.scan`,
// so `scan` must be read from the default export after `init()`, never as a named import.
declare module 'node-wifi' {
  interface NodeWifiInitOptions {
    /** Wireless interface; null lets node-wifi pick one. */
    iface: string | null;
    debug?: boolean;
  }
  interface NodeWifi {
    init(options: NodeWifiInitOptions): void;
    /** Without a callback it returns a promise of the networks (shape: see wifi-scan.ts). */
    scan(): Promise<unknown>;
  }
  const wifi: NodeWifi;
  export default wifi;
}
