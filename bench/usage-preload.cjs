// Preloaded into a measured process (node -r): at exit, its own CPU time and peak memory, as one JSON line on fd 3.
process.on('exit', () => {
  const u = process.resourceUsage();
  try {
    require('node:fs').writeSync(3, JSON.stringify({ userMs: u.userCPUTime / 1000, systemMs: u.systemCPUTime / 1000, maxRssMb: u.maxRSS / 1024 }) + '\n');
  } catch {
    /* not measured */
  }
});
