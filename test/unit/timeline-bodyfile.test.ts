import {describe, expect, it} from 'vitest'

import {bodyfileLine, bodyfileMode, bodyfileName, containerPath} from '../../src/services/report/timeline-bodyfile.js'

describe('Sleuth Kit body file', () => {
  it('writes | and % as mactime decodes them (%7C, %25), control characters and \\ as plaso decodes them', () => {
    expect(bodyfileName('a|b%c')).toBe('a%7Cb%25c')
    expect(bodyfileName('new\nline\ttab\u001b\u007f\u0085')).toBe('new\\x0aline\\x09tab\\x1b\\x7f\\x85')
    expect(bodyfileName('back\\slash %7C')).toBe('back\\\\slash %257C')
    expect(bodyfileName('ümlaut ok')).toBe('ümlaut ok')
    // What mactime's tm_split does to a field: s/%([A-F0-9][A-F0-9])/pack("C", hex($1))/egis
    const mactimeDecode = (f: string): string =>
      f.replace(/%([A-F0-9]{2})/gi, (_m, h: string) => String.fromCharCode(Number.parseInt(h, 16)))
    for (const name of ['a|b', '100%', '%41', 'x%7Cy|%|', '50%%']) expect(mactimeDecode(bodyfileName(name))).toBe(name)
  })

  it('gives TSK mode strings, with setuid, setgid and sticky bits', () => {
    expect(bodyfileMode('file', '0644')).toBe('r/rrw-r--r--')
    expect(bodyfileMode('directory', '0755')).toBe('d/drwxr-xr-x')
    expect(bodyfileMode('symlink', '0777')).toBe('l/lrwxrwxrwx')
    expect(bodyfileMode('file', '4755')).toBe('r/rrwsr-xr-x')
    expect(bodyfileMode('file', '2644')).toBe('r/rrw-r-Sr--')
    expect(bodyfileMode('directory', '1777')).toBe('d/drwxrwxrwt')
    expect(bodyfileMode('fifo', '0600')).toBe('p/prw-------')
    expect(bodyfileMode('character-device', '0666')).toBe('c/crw-rw-rw-')
  })

  it('writes one 11-field line per entry: container-prefixed absolute path, mtime in seconds, unknowns 0', () => {
    expect(containerPath('etc/')).toBe('/etc')
    expect(containerPath('./')).toBe('/')
    const line = bodyfileLine('web', {
      path: 'etc/pass|wd',
      type: 'file',
      size: 12,
      mode: '0644',
      uid: 0,
      gid: 42,
      mtime: '2026-12-03T10:00:01.000Z',
    })
    expect(line).toBe(`0|web:/etc/pass%7Cwd|0|r/rrw-r--r--|0|42|12|0|${Date.UTC(2026, 11, 3, 10, 0, 1) / 1000}|0|0\n`)
    expect(
      bodyfileLine('web', {
        path: 'bin/sh',
        type: 'symlink',
        size: 0,
        mode: '0777',
        uid: 0,
        gid: 0,
        mtime: null,
        linkTarget: 'busybox',
      }),
    ).toBe('0|web:/bin/sh -> busybox|0|l/lrwxrwxrwx|0|0|0|0|0|0|0\n')
  })
})
