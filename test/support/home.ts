import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway refresher home. Fixtures are written directly, as a user or another tool would. */
export class TempHome {
  readonly dir: string;
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'refresher-test-'));
    chmodSync(this.dir, 0o700);
    mkdirSync(this.accountsDir, { mode: 0o700 });
  }
  get accountsDir(): string {
    return join(this.dir, 'accounts');
  }
  file(id: string): string {
    return join(this.accountsDir, `${id}.json`);
  }
  writeAccount(doc: Record<string, unknown>): void {
    writeFileSync(this.file(String(doc.id)), JSON.stringify({ version: 1, ...doc }, null, 2), { mode: 0o600 });
  }
  writeRaw(id: string, text: string | Buffer): void {
    writeFileSync(this.file(id), text, { mode: 0o600 });
  }
  read(id: string): Record<string, any> {
    return JSON.parse(readFileSync(this.file(id), 'utf8'));
  }
  bytes(id: string): Buffer {
    return readFileSync(this.file(id));
  }
  writeConfig(yaml: string): void {
    writeFileSync(join(this.dir, 'config.yaml'), yaml, { mode: 0o600 });
  }
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
