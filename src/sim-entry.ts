// A separate entry so benchmarks can import the simulator from the build without the CLI.
export { Simulator, SIM_PATHS } from './sim/server.js';
