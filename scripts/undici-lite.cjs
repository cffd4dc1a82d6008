// The part of undici refresher uses, bundled by build.mjs into dist/undici.cjs: the Agent (direct, and under
// the SOCKS and HTTP proxy connectors) and the request/dispatch methods every dispatcher gets, as undici's own
// index.js gives them. Its index also loads fetch, WebSocket, the caches and the mocks: requiring it costs a
// working tick about 95 ms on Node 20, this about 30. The paths are undici's own files: an upgrade that moves
// them fails the build, not a run.
'use strict';
const Agent = require('undici/lib/dispatcher/agent');
const Dispatcher = require('undici/lib/dispatcher/dispatcher');
const api = require('undici/lib/api');

Object.assign(Dispatcher.prototype, api);
module.exports = { Agent, Dispatcher };
