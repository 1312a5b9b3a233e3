/**
 * The AWS CDK CLI the pipelines run (`cdk deploy` of a synthesized assembly). Pinned: the
 * CLI must read the cloud-assembly schema of the aws-cdk-lib that synthesized it, and the
 * `latest` tag has pointed at builds that cannot. The repository's own devDependency uses it too.
 */
export const CDK_CLI_VERSION = '2.1148.1';
