import { existsSync, readdirSync } from 'fs';
import { awscdk, javascript, JsonFile } from 'projen';
// aws-cdk@latest (3.0.0) rejects cloud-assembly schema 55; the pipelines run the same pinned CLI.
import { CDK_CLI_VERSION } from './lib/pipelines/versions';

/**
 * ddk-pipelines: the project definition. projen owns package.json, tsconfig*.json,
 * the eslint and jest configuration; edit this file and run `npx projen`.
 */
const CDK_VERSION = '2.276.0';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'ddk-pipelines',
  description: 'Multi-account continuous delivery on AWS from one ddk.json: CDK Pipelines and CodePipeline strategies, approvals and status-check gates.',
  author: 'ddk-pipelines developers',
  authorAddress: 'ddk-pipelines@example.com',
  repositoryUrl: 'https://example.com/ddk-pipelines.git',
  defaultReleaseBranch: 'main',
  keywords: ['aws', 'cdk', 'cdk-pipelines', 'codepipeline', 'ddk', 'continuous-delivery'],

  cdkVersion: CDK_VERSION,
  constructsVersion: '10.5.1',
  jsiiVersion: '~6.0.11',
  typescriptVersion: '~6.0.3', // TypeScript 7 has no compiler API: ts-node, jest and jsii break on it
  minNodeVersion: '20.16.0',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  projenrcTsOptions: { projenCodeDir: '.projen/projenrc' },

  // Layout fixed by the user: library in lib/, handlers in lambda/, app in bin/, tests in test/.
  srcdir: 'lib',
  libdir: 'dist',
  testdir: 'test',
  entrypoint: 'dist/index.js',

  bundledDeps: ['zod', 'jsonc-parser'],
  bin: { 'ddk-pipelines': 'dist/cli/ddk-pipelines.js' }, // bin/cli.ts, bundled by the `bundle` task
  devDeps: [
    `aws-cdk@${CDK_CLI_VERSION}`,
    'cdk-nag@3.0.2',
    'ts-node@10.9.2',
    '@swc/core@1.16.18',
    '@swc/jest@0.2.39',
    'esbuild@0.28.2',
    // Lambda handlers (lambda/) and the CLI (bin/cli.ts) are bundled by esbuild into dist/ at
    // build time, so everything they use is a development dependency of the package.
    '@aws-sdk/client-codecommit',
    '@aws-sdk/client-codepipeline',
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/lib-dynamodb',
    '@aws-sdk/client-eventbridge',
    '@aws-sdk/credential-providers',
    '@aws-sdk/client-cloudformation',
    '@smithy/signature-v4',
    '@smithy/protocol-http',
    '@aws-crypto/sha256-js',
    '@aws-lambda-powertools/logger',
    '@types/aws-lambda',
    'commander',
    '@hpcc-js/wasm-graphviz',
    // handler tests: a DynamoDB-protocol server on loopback, and SDK mocks for the rest
    'dynalite',
    'aws-sdk-client-mock',
    'aws-sdk-client-mock-jest',
  ],

  // No hosted CI/release workflows: CI is .ci/run on a clean clone.
  github: false,
  release: false,
  buildWorkflow: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
  docgen: false,
  sampleCode: false,
  gitignore: ['cdk.out', '.bench/', '*.tsbuildinfo'],

  jestOptions: {
    jestVersion: '^30',
    configFilePath: undefined,
    jestConfig: {
      coverageProvider: 'v8',
    },
  },
  eslintOptions: {
    dirs: ['lib'],
    devdirs: ['bin', 'test', 'lambda', '.projenrc.ts'],
  },
  tsconfigDev: {
    include: ['../bin/**/*.ts', '../lambda/**/*.ts', '../lib/**/*.ts'],
    compilerOptions: {},
  },
  // jsii-pacmak writes its packages here, away from the compiled library in dist/.
  artifactsDirectory: 'dist-pkg',
  licensed: false,
});

project.package.addField('license', 'Apache-2.0');
// The package ships the compiled library in dist/, never jsii-pacmak's outputs.
project.npmignore!.removePatterns('dist');
project.npmignore!.exclude('/dist/app.js', '/dist/cli/', '/dist-pkg/', '/cdk.out/', '/.bench/', '/bin/', '/lambda/**/*.ts', '/lambda/tsconfig.json', '/ddk.json', '/cdk.json', '/.ci/');
project.gitignore.exclude('/dist-pkg/');
project.npmignore!.include('/dist/cli/ddk-pipelines.js');

// The CLI (lib/cli, bin/cli.ts) and the handlers (lambda/) are bundled by esbuild, so the SDK and
// CLI libraries they import are development dependencies of the package, not runtime ones.
project.eslint!.addOverride({
  files: ['lib/cli/**/*.ts', 'bin/**/*.ts', 'lambda/**/*.ts'],
  rules: { 'import/no-extraneous-dependencies': 'off' },
});

// npm ci traps on this registry: platform binaries the registry lacks (see TOOLCHAIN.md).
project.package.addField('overrides', {
  'unrs-resolver': '1.12.2',
  '@swc/core': '1.16.18',
});

// Tests are transpiled by swc (fast, no type-check); the `typecheck` task type-checks them.
project.jest!.config.transform = { '^.+\\.ts$': ['@swc/jest', {}] };
project.deps.removeDependency('ts-jest');
project.tryFindObjectFile('package.json')!.addDeletionOverride('jest.globals');

const typecheck = project.addTask('typecheck', {
  description: 'Type-check the library, app, handlers and tests without emitting',
  exec: 'tsc --noEmit -p test/tsconfig.json',
});

// eslint's typed rules need a tsconfig.json in each folder outside lib/ and test/.
for (const dir of ['bin', 'lambda']) {
  new JsonFile(project, `${dir}/tsconfig.json`, {
    obj: {
      extends: '../tsconfig.json',
      compilerOptions: { rootDir: '..', noEmit: true, isolatedModules: true },
      include: ['**/*.ts'],
    },
  });
}

// Lambda handlers (lambda/<name>/index.ts) are bundled at build time into dist/lambda/<name>/,
// shipped in the package and used with lambda.Code.fromAsset: consumers need no esbuild and no
// Docker. The Node.js 22 runtime provides AWS SDK v3, so @aws-sdk/* stays external (~KBs, not MBs).
// The default app (bin/app.ts) is bundled into dist/app.js too: `cdk synth` then starts plain
// node instead of ts-node (measured: 10.1 s → 3.9 s for the example ddk.json). cdk.json's build
// command runs the same esbuild commands (not `projen bundle`, whose start-up alone costs ~2 s).
// One entry per handler folder: run `npx projen` after adding a handler.
const esbuild = 'node_modules/.bin/esbuild';
const handlers = readdirSync('lambda').filter(n => existsSync(`lambda/${n}/index.ts`)).sort();
const synthBundles = [
  ...(handlers.length > 0 ? [`${esbuild} ${handlers.map(n => `lambda/${n}/index.ts`).join(' ')} --outbase=lambda --outdir=dist/lambda --bundle --platform=node --target=node22 --format=cjs --minify --sourcemap --log-level=warning --external:@aws-sdk/*`] : []),
  `${esbuild} bin/app.ts --outfile=dist/app.js --bundle --platform=node --target=node20 --format=cjs --main-fields=module,main --log-level=warning --external:aws-cdk-lib --external:constructs --external:cdk-nag`,
];
const bundle = project.addTask('bundle', {
  description: 'Bundle the Lambda handlers, the default app and the CLI with esbuild into dist/',
});
for (const cmd of synthBundles) bundle.exec(cmd);
if (existsSync('bin/cli.ts')) bundle.exec(`${esbuild} bin/cli.ts --outfile=dist/cli/ddk-pipelines.js --bundle --platform=node --target=node20 --format=cjs --main-fields=module,main --log-level=warning --external:aws-cdk-lib --external:constructs`);

project.preCompileTask.spawn(bundle);

// `npm test`: type-check; bundle (constructs point at dist/lambda); compile (a test uses the package
// entry point in dist/); jest --ci (never writes snapshots, so a changed one fails); eslint.
project.testTask.reset();
project.testTask.spawn(typecheck);
project.testTask.spawn(bundle);
project.testTask.spawn(project.compileTask);
project.testTask.exec('jest --ci', { receiveArgs: true });
project.testTask.spawn(project.eslint!.eslintTask);

// The JSON Schema of ddk.json is generated from the zod schema, committed (editors use it in this
// repository) and shipped in dist/; test/config/schema.test.ts fails when it is stale.
project.addTask('schema', {
  description: 'Regenerate lib/config/ddk.schema.json from the zod schema',
  exec: 'ts-node --transpile-only -e "require(\'fs\').writeFileSync(\'lib/config/ddk.schema.json\', JSON.stringify(require(\'./lib/config/schema\').ddkJsonSchema(), null, 2) + \'\\n\')"',
});
project.postCompileTask.exec('cp lib/config/ddk.schema.json dist/ddk.schema.json');

// The CDK app (bin/app.ts) reads ddk.json; cdk.json points at it.
new awscdk.CdkConfig(project, {
  app: 'node dist/app.js',
  buildCommand: synthBundles.join(' && '),
  featureFlags: awscdk.CdkFeatureFlags.V2.ALL,
  context: {
    '@aws-cdk/core:validateAgainstDefaultRules': true,
  },
  watchIncludes: [],
  watchExcludes: [],
});

project.synth();
