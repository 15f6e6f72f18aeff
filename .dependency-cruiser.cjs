/**
 * Import boundaries (DEVELOPERS.md, shared/architecture.md). `npm test` runs this first,
 * so a wrong-way import fails the build before any test runs.
 * Dependencies point one way: components -> store/services/render -> worker bridge -> core.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-self-contained',
      comment: 'src/core may import only src/core and tfjs / small pure libraries (no app, worker, Node or DOM code).',
      severity: 'error',
      // tests run in Node next to the code (fixtures, fs): they are not part of the shipped core
      from: { path: '^src/core/', pathNot: '\\.test\\.ts$' },
      to: { pathNot: ['^src/core/', '^node_modules/(@tensorflow/tfjs-core|@tensorflow/tfjs-layers|@tensorflow/tfjs-backend-cpu|@tensorflow/tfjs-backend-wasm|@tensorflow/tfjs|d3-contour|d3-array)/'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'core-no-node-builtins',
      comment: 'core runs in browsers and workers too.',
      severity: 'error',
      from: { path: '^src/core/', pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'training-imports-core-only',
      comment: 'training may use src/core, never the UI, worker, store or CLI.',
      severity: 'error',
      from: { path: '^training/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    {
      name: 'e2e-is-black-box',
      comment: 'e2e drives the built app like a user; it imports nothing from src.',
      severity: 'error',
      from: { path: '^e2e/' },
      to: { path: '^(src|training)/' },
    },
    {
      name: 'render-is-pure',
      comment: 'render/ draws on a 2D context: no React, no tfjs, no store.',
      severity: 'error',
      from: { path: '^src/render/' },
      to: { path: ['^node_modules/(react|react-dom|zustand|@tensorflow)/', '^src/(store|components|services|worker)/'] },
    },
    {
      name: 'ui-never-touches-tfjs',
      comment: 'tensors live in the worker; the main thread talks to it through services/.',
      severity: 'error',
      from: { path: '^src/(components|store|render|app)/' },
      to: { path: ['^node_modules/@tensorflow/', '^src/worker/'] },
    },
    {
      name: 'ui-never-imports-tensor-code-from-core',
      comment: 'the main thread may use core types and pure helpers, but never the tfjs pipeline.',
      severity: 'error',
      from: { path: '^src/(components|store|render|app)/' },
      to: { path: '^src/core/(analyze|model|explain|backends|preprocess)', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'no-ui-from-lower-layers',
      severity: 'error',
      from: { path: '^src/(worker|services|store|render|core|cli)/' },
      to: { path: '^src/(components|app)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|dev-dist|\\.tsbuild)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.node.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    combinedDependencies: true,
  },
};
