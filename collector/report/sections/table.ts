// The shape of a section's table, structurally a tables.ts Table: declared here
// so that sections need not import tables.ts (which imports them).

export interface SectionColumn { key: string, header: string, type: 'text' | 'int' | 'num' | 'date' | 'datetime' | 'gb', width: number, digits?: number }

export interface SectionTable {
  id: 'security' | 'logins' | 'inventory' | 'deviceTraffic'
  sheet: string
  title: string
  columns: SectionColumn[]
  rows: Array<Record<string, string | number | null>>
}
