import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { homeDir, resolveHome } from '../../src/store/home.js';

const saved = { HOME: process.env.HOME, REFRESHER_HOME: process.env.REFRESHER_HOME, XDG_DATA_HOME: process.env.XDG_DATA_HOME };
const put = (name: keyof typeof saved, value: string | undefined) => (value === undefined ? delete process.env[name] : (process.env[name] = value));

describe('resolveHome', () => {
  afterEach(() => {
    for (const [k, v] of Object.entries(saved)) put(k as keyof typeof saved, v);
  });

  it('takes --home, then $REFRESHER_HOME, then $XDG_DATA_HOME/refresher, then ~/.local/share/refresher', () => {
    put('REFRESHER_HOME', '/srv/pool');
    put('XDG_DATA_HOME', '/data');
    expect(resolveHome('rel/home')).toBe(resolve('rel/home'));
    expect(resolveHome()).toBe('/srv/pool');
    put('REFRESHER_HOME', undefined);
    expect(resolveHome()).toBe('/data/refresher');
    put('XDG_DATA_HOME', undefined);
    put('HOME', '/home/someone');
    expect(resolveHome()).toBe('/home/someone/.local/share/refresher');
  });

  // homeDir answers $HOME without loading node:os: it must answer as os.homedir() does, with $HOME set, empty or unset
  it('finds the home directory as os.homedir() does', () => {
    for (const home of ['/home/someone', '', undefined]) {
      put('HOME', home);
      expect(homeDir()).toBe(homedir());
      put('REFRESHER_HOME', undefined);
      put('XDG_DATA_HOME', undefined);
      expect(resolveHome()).toBe(join(homedir(), '.local', 'share', 'refresher'));
    }
    put('HOME', undefined);
    // unset: the password database answers (a sabotaged `?? ""` fails here and above)
    expect(homeDir()).not.toBe('');
  });
});
