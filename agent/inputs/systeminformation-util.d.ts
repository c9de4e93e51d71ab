// systeminformation's internal helper module, used for its persistent
// PowerShell on Windows (the package ships no types for it).
declare module 'systeminformation/lib/util.js' {
  export function powerShell (cmd: string): Promise<string>
}
