// npm run build: packages the agent reaches only through import(), and only on
// some hosts (systeminformation off Linux, iconv-lite for Japanese log
// encodings, net-snmp on pollers, holidays for backup checks), travel compressed in the single file and compile on first import:
// V8 holds all of a script's source from the start, used or not.

import { build, type BuildOptions, type Plugin } from 'esbuild'
import { brotliCompressSync, constants } from 'node:zlib'

/** LAZY_PACKAGES maps each compressed part to the import specifiers it serves (one part per package keeps one instance of its modules). */
const LAZY_PACKAGES: Readonly<Record<string, readonly string[]>> = {
  systeminformation: ['systeminformation', 'systeminformation/lib/util.js'],
  'iconv-lite': ['iconv-lite'],
  // SNMP polling and traps: only pollers load it (agent/inputs/snmp/session.ts).
  'net-snmp': ['net-snmp'],
  // Japanese national holidays, 260 KB of script: only backup checks on business days (agent/inputs/checks/holidays.ts).
  '@holiday-jp/holiday_jp': ['@holiday-jp/holiday_jp']
}

const SPECIFIER = 'kanshi-lazy'
const PART = 'kanshi-lazy-part'

export interface LazyOptions {
  /** where the packages resolve from (the repository root) */
  resolveDir: string
  /** the main build's options; each part repeats its platform, target, define and minify settings */
  base: BuildOptions
  /** applied to each part's code before it is compressed (asciiOnly) */
  transform?: (code: string) => string
  packages?: Readonly<Record<string, readonly string[]>>
}

/**
 * lazyPackages is the esbuild plugin: an import() of a listed specifier gets a
 * stub that, when first required, inflates its part (a CommonJS bundle of the
 * package, brotli, base64) and runs it with vm.compileFunction. A static import
 * of a listed package fails the build: it would inflate the part at every start.
 */
export function lazyPackages (o: LazyOptions): Plugin {
  const packages = o.packages ?? LAZY_PACKAGES
  const owner = new Map(Object.entries(packages).flatMap(([part, specs]) => specs.map(s => [s, part] as const)))
  const filter = new RegExp(`^(${[...owner.keys()].map(s => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`)
  return {
    name: 'kanshi-lazy-packages',
    setup (b) {
      b.onResolve({ filter }, a => {
        if (a.kind !== 'dynamic-import') {
          return { errors: [{ text: `${a.path} is packed lazily (scripts/bundle-lazy.ts): reach it with import(), not a static import or require (${a.importer})` }] }
        }
        return { path: a.path, namespace: SPECIFIER }
      })
      b.onResolve({ filter: new RegExp(`^${PART}:`) }, a => ({ path: a.path.slice(PART.length + 1), namespace: PART }))
      b.onLoad({ filter: /.*/, namespace: SPECIFIER }, a => ({
        loader: 'js',
        contents: `module.exports = require(${JSON.stringify(`${PART}:${owner.get(a.path)!}`)})[${JSON.stringify(a.path)}]`
      }))
      b.onLoad({ filter: /.*/, namespace: PART }, async a => {
        const specs = packages[a.path]!
        const entry = `module.exports = { ${specs.map(s => `${JSON.stringify(s)}: require(${JSON.stringify(s)})`).join(', ')} }`
        const { platform, target, define, legalComments, minifyWhitespace, minifySyntax, logLevel } = o.base
        const r = await build({
          platform, target, define, legalComments, minifyWhitespace, minifySyntax, logLevel,
          stdin: { contents: entry, resolveDir: o.resolveDir, loader: 'js', sourcefile: `${a.path}-entry.js` },
          bundle: true,
          format: 'cjs',
          write: false
        })
        const code = (o.transform ?? (s => s))(r.outputFiles![0]!.text)
        const packed = brotliCompressSync(Buffer.from(code), { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: code.length } }).toString('base64')
        // require here is the bundle's (the ESM banner's createRequire, or CommonJS in a
        // single executable); the part needs only Node's built-in modules from it.
        return {
          loader: 'js',
          contents: [
            "const { brotliDecompressSync } = require('node:zlib')",
            "const { compileFunction } = require('node:vm')",
            `const code = brotliDecompressSync(Buffer.from(${JSON.stringify(packed)}, 'base64')).toString()`,
            `compileFunction(code, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: ${JSON.stringify(`kanshi-agent:${a.path}`)} })(module.exports, require, module, __filename, __dirname)`
          ].join('\n')
        }
      })
    }
  }
}
