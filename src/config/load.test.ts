import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CLIENT_MARKET_OPTIONS } from '../core/market/client-market.js';
import { DEFAULT_GATEWAY_MARKET_OPTIONS } from '../core/market/gateway-market.js';
import { ConfigError } from './error.js';
import { defaultConfig, loadConfig, lookupOption, validateConfig } from './load.js';
import { parseUci } from './uci.js';

const FILE = '/etc/config/bitmesh';

function validate(text: string) {
  return validateConfig(parseUci(text, FILE), FILE);
}

function errorOf(text: string): ConfigError {
  try {
    validate(text);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('validated without error');
}

// A gateway's config as an operator would write it (our own fixture).
const GATEWAY = `
config agent 'main'
	option role 'gateway'
	option log_level debug
	option log_target syslog

config mesh 'mesh'
	list interface 'bat0'
	list interface 'br-lan'
	option port '4271'
	option ipv4_broadcast 'no'
	option bind_address '127.0.0.1'
	list peer '127.0.0.1:4272'
	list peer '[fe80::1%bat0]:4270'
	list peer 'gw.mesh.lan:4270'
	option link_quality batman
	option hello_interval_ms 500

config market 'market'
	option price_msat_per_kib '250'

config channel 'channel'
	option zero_conf_cap_sat 0

config chain 'chain'
	option backend 'esplora'
	option esplora_url 'https://mempool.space/signet/api'
	option network 'signet'
`;

describe('validateConfig', () => {
  it('gives all defaults for no sections', () => {
    const c = validateConfig([], FILE);
    expect(c.agent).toEqual({ role: 'client', stateDir: '/etc/bitmesh', controlSocket: '/etc/bitmesh/bitmesh.sock', logLevel: 'info', logTarget: 'stderr', helperPath: '' });
    expect(c.mesh).toEqual({
      interface: ['bat0'], port: 4270, multicastGroup: 'ff02::4270', ipv4Broadcast: true, bindAddress: '', peer: [],
      helloIntervalMs: 1000, neighbourExpiryMs: 5000, maxNeighbours: 256, linkQuality: 'none', linkQualityIface: '', linkQualityIntervalMs: 5000, peerRatePerS: 200,
      peerBurst: 400, garbageBanThreshold: 20, banMs: 60000, clockSkewMs: 30000, replayCacheSize: 4096,
    });
    expect(c.market).toEqual({ priceMsatPerKib: 1, wanInterface: '', maxPriceMsatPerKib: 10, probeUrl: '', probeIntervalMs: 300000, wantedKbps: 1000000, reserveMs: 5000, clientProbeUrl: '', clientProbeMs: 2000, clientProbeDelayMaxMs: 20000 });
    expect(c.channel).toEqual({ tickKib: 16, initialCreditKib: 64, maxCreditMsat: 1000, lossTolerancePct: 2, persistIntervalMs: 2000, zeroConfCapSat: 100000 });
    expect(c.chain).toEqual({ backend: 'devchain', esploraUrl: 'http://127.0.0.1:4280', network: 'regtest' });
  });

  it('reads a full file into typed values, defaults where unset', () => {
    const c = validate(GATEWAY);
    expect(c.agent).toMatchObject({ role: 'gateway', logLevel: 'debug', logTarget: 'syslog' });
    expect(c.mesh).toMatchObject({
      interface: ['bat0', 'br-lan'], port: 4271, ipv4Broadcast: false, bindAddress: '127.0.0.1', linkQuality: 'batman',
      helloIntervalMs: 500, neighbourExpiryMs: 5000,
      peer: [{ host: '127.0.0.1', port: 4272 }, { host: 'fe80::1%bat0', port: 4270 }, { host: 'gw.mesh.lan', port: 4270 }],
    });
    expect(c.market).toEqual({ priceMsatPerKib: 250, wanInterface: '', maxPriceMsatPerKib: 10, probeUrl: '', probeIntervalMs: 300000, wantedKbps: 1000000, reserveMs: 5000, clientProbeUrl: '', clientProbeMs: 2000, clientProbeDelayMaxMs: 20000 });
    expect(c.channel.zeroConfCapSat).toBe(0);
    expect(c.chain).toEqual({ backend: 'esplora', esploraUrl: 'https://mempool.space/signet/api', network: 'signet' });
  });

  it('is deeply frozen', () => {
    const c = validate(GATEWAY);
    expect(Object.isFrozen(c) && Object.isFrozen(c.mesh) && Object.isFrozen(c.mesh.peer) && Object.isFrozen(c.mesh.peer[0])).toBe(true);
  });

  it.each([
    ['1', true], ['yes', true], ['on', true], ['true', true], ['enabled', true],
    ['0', false], ['no', false], ['off', false], ['false', false], ['disabled', false],
  ])('reads bool %s as uci does', (raw, want) => {
    expect(validate(`config mesh 'mesh'\n option ipv4_broadcast '${raw}'\n`).mesh.ipv4Broadcast).toBe(want);
  });

  it('accepts an anonymous section, and one option line for a list', () => {
    const c = validate("config mesh\n option interface 'wlan0'\n");
    expect(c.mesh.interface).toEqual(['wlan0']);
  });

  it('puts the control socket in the state dir unless set', () => {
    expect(validate("config agent 'main'\n option state_dir '/var/lib/bm'\n").agent.controlSocket).toBe('/var/lib/bm/bitmesh.sock');
    expect(validate("config agent 'main'\n option control_socket '/tmp/x.sock'\n").agent.controlSocket).toBe('/tmp/x.sock');
  });

  it('applies overrides over the file, before deriving the control socket', () => {
    const sections = parseUci("config agent 'main'\n option state_dir '/var/lib/bm'\n option role gateway\n", FILE);
    const c = validateConfig(sections, FILE, { agent: { stateDir: '/tmp/s' }, mesh: { peer: [{ host: '127.0.0.1', port: 1 }] } });
    expect(c.agent).toMatchObject({ stateDir: '/tmp/s', controlSocket: '/tmp/s/bitmesh.sock', role: 'gateway' });
    expect(c.mesh.peer).toEqual([{ host: '127.0.0.1', port: 1 }]);
    expect(defaultConfig({ market: { priceMsatPerKib: 7 } }).market.priceMsatPerKib).toBe(7);
  });

  it('market tuning an operator may set defaults to what the market itself uses', () => {
    const m = defaultConfig().market;
    expect(m.clientProbeMs).toBe(DEFAULT_CLIENT_MARKET_OPTIONS.probeMs);
    expect(m.clientProbeDelayMaxMs).toBe(DEFAULT_CLIENT_MARKET_OPTIONS.probeDelayMaxMs);
    expect(m.reserveMs).toBe(DEFAULT_GATEWAY_MARKET_OPTIONS.reserveMs);
    expect(validate("config market 'market'\n\toption client_probe_ms '0'\n\toption reserve_ms '0'\n").market).toMatchObject({ clientProbeMs: 0, reserveMs: 0 });
  });
});

describe('validateConfig errors name file, line, section, option and what was expected', () => {
  const cases: [string, string, string][] = [
    ["config mesh 'mesh'\n\toption port 'abc'\n", 'config_value', "/etc/config/bitmesh:2: section 'mesh' option 'port': expected an integer 1-65535, got 'abc'"],
    ["config mesh 'mesh'\n\toption port '65536'\n", 'config_value', "/etc/config/bitmesh:2: section 'mesh' option 'port': expected an integer 1-65535, got '65536'"],
    ["config mesh 'mesh'\n\toption port ' 1'\n", 'config_value', "/etc/config/bitmesh:2: section 'mesh' option 'port': expected an integer 1-65535, got ' 1'"],
    ["config mesh\n\toption port 1.5\n", 'config_value', "/etc/config/bitmesh:2: section '@mesh[0]' option 'port': expected an integer 1-65535, got '1.5'"],
    ["config mesh 'mesh'\n\toption prot '4270'\n", 'config_unknown', "/etc/config/bitmesh:2: section 'mesh' option 'prot': expected an option of 'mesh': did you mean 'port'?, got 'prot'"],
    ["config market 'market'\n\toption xyz '1'\n", 'config_unknown', "/etc/config/bitmesh:2: section 'market' option 'xyz': expected an option of 'market': one of price_msat_per_kib, wan_interface, max_price_msat_per_kib, probe_url, probe_interval_ms, wanted_kbps, reserve_ms, client_probe_url, client_probe_ms, client_probe_delay_max_ms, got 'xyz'"],
    ["\nconfig mesj 'mesh'\n", 'config_unknown', "/etc/config/bitmesh:2: section 'mesh': expected a section type: did you mean 'mesh'?, got 'mesj'"],
    ["config agent 'agent'\n", 'config_unknown', "/etc/config/bitmesh:1: section 'agent': expected the name 'main' (or none) for section type 'agent', got 'agent'"],
    ["config chain 'chain'\n\nconfig chain 'chain'\n", 'config_duplicate', "/etc/config/bitmesh:3: section 'chain': expected one 'chain' section (the first is on line 1)"],
    ["config chain\nconfig chain\n", 'config_duplicate', "/etc/config/bitmesh:2: section '@chain[1]': expected one 'chain' section (the first is on line 1)"],
    ["config agent 'main'\n\toption role 'router'\n", 'config_value', "/etc/config/bitmesh:2: section 'main' option 'role': expected one of gateway, client, both, got 'router'"],
    ["config agent 'main'\n\tlist role 'client'\n", 'config_value', "/etc/config/bitmesh:2: section 'main' option 'role': expected one of gateway, client, both in one 'option' line, not a 'list', got 'client'"],
    ["config agent 'main'\n\toption state_dir 'var/bm'\n", 'config_value', "/etc/config/bitmesh:2: section 'main' option 'state_dir': expected an absolute path, got 'var/bm'"],
    ["config mesh 'mesh'\n\toption ipv4_broadcast 'maybe'\n", 'config_value', "/etc/config/bitmesh:2: section 'mesh' option 'ipv4_broadcast': expected a boolean (1/0, yes/no, on/off, true/false), got 'maybe'"],
    ["config mesh 'mesh'\n\tlist peer 'a:1'\n\tlist peer 'b'\n", 'config_value', "/etc/config/bitmesh:3: section 'mesh' option 'peer': expected a list of host:port ([v6]:port for IPv6), got 'b'"],
    ["config mesh 'mesh'\n\tlist peer 'fe80::1:4270'\n", 'config_value', "/etc/config/bitmesh:2: section 'mesh' option 'peer': expected a list of host:port ([v6]:port for IPv6), got 'fe80::1:4270'"],
    ["config mesh 'mesh'\n\toption multicast_group 'ff02::4270x'\n", 'config_value', "/etc/config/bitmesh:2: section 'mesh' option 'multicast_group': expected an IPv4 or IPv6 address, got 'ff02::4270x'"],
    ["config chain 'chain'\n\toption esplora_url 'ftp://x'\n", 'config_value', "/etc/config/bitmesh:2: section 'chain' option 'esplora_url': expected an http:// or https:// URL, got 'ftp://x'"],
    ["config mesh 'mesh'\n\tlist interface ''\n", 'config_value', "/etc/config/bitmesh:2: section 'mesh' option 'interface': expected a list of interface names, got ''"],
    ["config mesh 'mesh'\n\tlist interface 'bat0'\n\tlist interface 'a-very-long-ifname0'\n", 'config_value', "/etc/config/bitmesh:3: section 'mesh' option 'interface': expected a list of interface names, got 'a-very-long-ifname0'"],
    ["config mesh 'mesh'\n\tlist interface '-x'\n", 'config_value', "/etc/config/bitmesh:2: section 'mesh' option 'interface': expected a list of interface names, got '-x'"],
  ];
  it.each(cases)('%j', (text, code, message) => {
    const e = errorOf(text);
    expect([e.code, e.message]).toEqual([code, message]);
  });

  it('carries the parts as fields', () => {
    const e = errorOf("config mesh 'mesh'\n\n\toption port 'abc'\n");
    expect({ file: e.file, line: e.line, section: e.section, option: e.option, expected: e.expected, got: e.got }).toEqual({
      file: FILE, line: 3, section: 'mesh', option: 'port', expected: 'an integer 1-65535', got: 'abc',
    });
    expect(e.blame).toBe('remote');
  });

  it('never throws anything but ConfigError, whatever the sections hold', () => {
    const known = ['agent', 'mesh', 'market', 'channel', 'chain', 'main', 'port', 'peer', 'role', 'interface', 'x'];
    const word = fc.oneof(fc.constantFrom(...known), fc.string({ maxLength: 6 }));
    const value = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('1', '0', 'yes', '65536', '[::1]:1', 'a:1', '/x'));
    const section = fc.record({
      type: word,
      name: fc.option(word, { nil: undefined }),
      line: fc.nat(),
      options: fc
        .array(fc.tuple(word, fc.oneof(value, fc.array(value, { maxLength: 3 }))), { maxLength: 4 })
        .map((e) => new Map(e.map(([k, v]) => [k, { value: v, line: 1 }]))),
    });
    fc.assert(
      fc.property(fc.array(section, { maxLength: 4 }), (sections) => {
        try {
          validateConfig(sections, 'fuzz');
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('lookupOption', () => {
  it('finds an option by UCI names and gives its spec', () => {
    const hit = lookupOption('market', 'price_msat_per_kib');
    expect(hit?.key).toBe('priceMsatPerKib');
    expect(hit?.spec.decode('5')).toEqual({ ok: true, value: 5 });
    expect(lookupOption('market', 'priceMsatPerKib')).toBeUndefined();
    expect(lookupOption('toString', 'x')).toBeUndefined();
  });
});

describe('loadConfig', () => {
  it('reads a file; a missing file gives the defaults', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bitmesh-config-'));
    const path = join(dir, 'bitmesh');
    await writeFile(path, GATEWAY);
    expect((await loadConfig(path)).mesh.port).toBe(4271);
    expect(await loadConfig(join(dir, 'missing'))).toEqual(defaultConfig());
    expect((await loadConfig(join(dir, 'missing'), { agent: { stateDir: dir } })).agent.controlSocket).toBe(join(dir, 'bitmesh.sock'));
  });

  it('reports syntax and value errors with the path, and refuses directories and huge files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bitmesh-config-'));
    const path = join(dir, 'bitmesh');
    await writeFile(path, "config mesh 'mesh'\n\toption port 'x\n");
    await expect(loadConfig(path)).rejects.toThrow(`${path}:2: expected a closing ' before the end of the file`);
    await writeFile(path, "config mesh 'mesh'\n\toption port 0\n");
    await expect(loadConfig(path)).rejects.toThrow(`${path}:2: section 'mesh' option 'port': expected an integer 1-65535, got '0'`);
    await mkdir(join(dir, 'sub'));
    await expect(loadConfig(join(dir, 'sub'))).rejects.toThrow(`${join(dir, 'sub')}: expected a regular file`);
    await writeFile(path, '#'.repeat((1 << 20) + 1));
    await expect(loadConfig(path)).rejects.toThrow(`${path}: expected a file of at most 1048576 bytes, got '1048577 bytes'`);
  });
});
