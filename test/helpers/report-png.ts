// Decodes a PNG screenshot (8-bit RGB or RGBA, as Chromium writes them) far
// enough to tell a drawn page from a blank one: the share of non-white pixels
// and the number of distinct colours.

import { inflateSync } from 'node:zlib'

export function pngStats (png: Buffer): { width: number, height: number, nonWhite: number, colours: number } {
  let pos = 8
  let width = 0; let height = 0; let colorType = 0; let depth = 0
  const idat: Buffer[] = []
  while (pos < png.length) {
    const len = png.readUInt32BE(pos)
    const type = png.toString('latin1', pos + 4, pos + 8)
    const data = png.subarray(pos + 8, pos + 8 + len)
    if (type === 'IHDR') { width = data.readUInt32BE(0); height = data.readUInt32BE(4); depth = data[8]!; colorType = data[9]! }
    if (type === 'IDAT') idat.push(data)
    pos += 12 + len
  }
  if (depth !== 8 || (colorType !== 2 && colorType !== 6)) throw new Error(`unsupported PNG: depth ${depth}, colour type ${colorType}`)
  const bpp = colorType === 6 ? 4 : 3
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * bpp
  const cur = Buffer.alloc(stride)
  let prev = Buffer.alloc(stride)
  let nonWhite = 0
  const colours = new Set<number>()
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1))
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? cur[i - bpp]! : 0
      const b = prev[i]!
      const c = i >= bpp ? prev[i - bpp]! : 0
      const x = line[i]!
      let v: number
      switch (f) {
        case 0: v = x; break
        case 1: v = x + a; break
        case 2: v = x + b; break
        case 3: v = x + ((a + b) >> 1); break
        default: { const p = a + b - c; const pa = Math.abs(p - a); const pb = Math.abs(p - b); const pc = Math.abs(p - c); v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c) }
      }
      cur[i] = v & 0xff
    }
    for (let i = 0; i < stride; i += bpp) {
      const rgb = (cur[i]! << 16) | (cur[i + 1]! << 8) | cur[i + 2]!
      if (rgb !== 0xffffff) nonWhite++
      if (colours.size < 5000) colours.add(rgb)
    }
    prev = Buffer.from(cur)
  }
  return { width, height, nonWhite: nonWhite / (width * height), colours: colours.size }
}
