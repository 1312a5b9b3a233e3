/**
 * The AWS CDK CLI the pipelines run (`cdk deploy` of a synthesized assembly, self-mutation, asset
 * publishing). Pinned: the CLI must read the cloud-assembly schema of the aws-cdk-lib that
 * synthesized it, and the `latest` tag has pointed at builds that cannot. The repository's own
 * devDependency uses it too (.projenrc.ts).
 */
export const CDK_CLI_VERSION = '2.1148.1';

/**
 * The Node.js major version the project builds, tests and runs on: every CodeBuild project of
 * every strategy pins it (`runtime-versions`), the handlers are bundled for it and run on the
 * matching Lambda runtime. CodeBuild's images default to an older Node.js (standard:7.0 to 18)
 * when a buildspec names none.
 */
export const NODE_MAJOR = 22;
