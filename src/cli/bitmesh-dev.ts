// Entry point of dist/bitmesh-dev.js: the code a laptop or a developer needs and a
// router never does, kept out of dist/bitmesh.js so the router parses and stores less.
// dist/bitmesh.js loads this file only when a command or the config asks for one of
// these modules, through the dynamic imports the sources already have (scripts/build.mjs
// DEV_MODULES turns each such import into a require of this file); the OpenWrt package
// does not ship it.
//
// One export per dev-only module, named as in DEV_MODULES: its whole namespace, so the
// importing code reads the same names it reads from the source module under vitest.
export * as simRun from '../sim/run.js';
export * as simReportFormat from '../sim/report-format.js';
export * as devchainServer from '../chain/devchain/server.js';
export * as devchainCli from '../chain/devchain/cli.js';
export * as operatorMgmt from './operator/mgmt.js';
export * as operatorFleet from './operator/fleet.js';
export * as devCommands from './dev-commands.js';
export * as wifiSource from '../mesh/linkquality/wifi-source.js';
export * as wifiSurvey from '../mesh/survey/wifi-survey.js';
// node-wifi is CommonJS: its module.exports object, which `init()` mutates.
export { default as nodeWifi } from 'node-wifi';
