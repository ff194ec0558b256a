// The few calls the tests make of the `jsonld` package (it ships no types).
declare module 'jsonld' {
  interface Options {
    safe?: boolean
    documentLoader?: (url: string) => Promise<never>
    format?: 'application/n-quads'
  }
  const jsonld: {
    expand(doc: unknown, opts?: Options): Promise<Record<string, unknown>[]>
    toRDF(doc: unknown, opts: Options & {format: 'application/n-quads'}): Promise<string>
  }
  export default jsonld
}
