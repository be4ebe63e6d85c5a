// /version. The installed kubectl is a dispatcher that picks its binary by the reported minor version,
// so the minor is configurable (--emulated-version style flag) and defaults to 32.

export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

export function versionInfo(minor = '32'): VersionInfo {
  return {
    major: '1',
    minor,
    gitVersion: `v1.${minor}.0-ts`,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-11-22T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}
