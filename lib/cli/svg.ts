/**
 * Renders Graphviz DOT to SVG with Graphviz compiled to WebAssembly (no browser, no native
 * binary). The module is ESM-only and ~800 KB, so it is loaded on first use only.
 */
export async function renderSvg(dot: string): Promise<string> {
  // eslint-disable-next-line import/no-extraneous-dependencies -- bundled into dist/cli by esbuild; never loaded by the library
  const { Graphviz } = await import('@hpcc-js/wasm-graphviz');
  const graphviz = await Graphviz.load();
  return graphviz.dot(dot, 'svg');
}
