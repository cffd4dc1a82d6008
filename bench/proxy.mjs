// 1,000 due grok accounts through a real dante SOCKS5 proxy against the simulator (50 ms latency,
// concurrency 16), next to the same run direct, measured in the same process run.
import { busyRun } from './tick-busy.mjs';
import { startDante, startTinyproxy } from '../test/support/proxies.mjs';

const dante = await startDante();
try {
  const direct = await busyRun();
  const viaDante = await busyRun({ proxy: dante.url });
  const connects = (dante.log().match(/dorequest\(\): command 1 request/g) ?? []).length;
  console.log(`direct        ${(direct.wallMs / 1000).toFixed(2)} s, ${direct.ok} ok, peak RSS ${direct.rssMb?.toFixed(0)} MB`);
  console.log(`through dante ${(viaDante.wallMs / 1000).toFixed(2)} s, ${viaDante.ok} ok, peak RSS ${viaDante.rssMb?.toFixed(0)} MB`);
  console.log(`ratio dante/direct ${(viaDante.wallMs / direct.wallMs).toFixed(2)}x; SOCKS connects for 2000 requests: ${connects}`);
  // tinyproxy must allow CONNECT to the simulator's port, which busyRun picks: allow the whole range
  const tiny = await startTinyproxy([]);
  try {
    const viaTiny = await busyRun({ proxy: tiny.url });
    const tunnels = (tiny.log().match(/Request \(file descriptor \d+\): CONNECT/g) ?? []).length;
    console.log(`through tinyproxy ${(viaTiny.wallMs / 1000).toFixed(2)} s, ${viaTiny.ok} ok; ratio ${(viaTiny.wallMs / direct.wallMs).toFixed(2)}x; CONNECT tunnels for 2000 requests: ${tunnels}`);
  } finally {
    await tiny.stop();
  }
} finally {
  await dante.stop();
}
