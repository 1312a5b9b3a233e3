/**
 * AWS regions the library accepts, by partition. A region missing here is reported as
 * unknown with a "did you mean" suggestion; add new regions to this list.
 */
export const AWS_REGIONS: readonly string[] = [
  // aws
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
  'af-south-1',
  'ap-east-1', 'ap-east-2', 'ap-south-1', 'ap-south-2',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7',
  'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3',
  'ca-central-1', 'ca-west-1',
  'eu-central-1', 'eu-central-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'eu-south-1', 'eu-south-2', 'eu-north-1',
  'il-central-1', 'me-south-1', 'me-central-1', 'mx-central-1', 'sa-east-1',
  // aws-us-gov
  'us-gov-east-1', 'us-gov-west-1',
  // aws-cn
  'cn-north-1', 'cn-northwest-1',
  // aws-eusc
  'eusc-de-east-1',
];

const REGION_SET = new Set(AWS_REGIONS);

/** Whether `region` is a known AWS region. */
export function isKnownRegion(region: string): boolean {
  return REGION_SET.has(region);
}

/**
 * The partition of a region, by the region patterns of the AWS SDK's partition table
 * (@aws-sdk/util-endpoints partitions.json); undefined for a region of none of them.
 */
export function partitionOfRegion(region: string): string | undefined {
  const patterns: Array<[string, RegExp]> = [
    ['aws-cn', /^cn-\w+-\d+$/],
    ['aws-us-gov', /^us-gov-\w+-\d+$/],
    ['aws-iso', /^us-iso-\w+-\d+$/],
    ['aws-iso-b', /^us-isob-\w+-\d+$/],
    ['aws-iso-e', /^eu-isoe-\w+-\d+$/],
    ['aws-iso-f', /^us-isof-\w+-\d+$/],
    ['aws-eusc', /^eusc-de-\w+-\d+$/],
    ['aws', /^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$/],
  ];
  return patterns.find(([, p]) => p.test(region))?.[0];
}

/** The partition of a known region (`aws`, `aws-us-gov`, `aws-cn`, `aws-eusc`, …); `aws` for one of no known pattern. */
export function partitionOf(region: string): string {
  return partitionOfRegion(region) ?? 'aws';
}

/** The AWS console's host for a region. */
export function consoleHost(region: string): string {
  switch (partitionOf(region)) {
    case 'aws-cn': return 'console.amazonaws.cn';
    case 'aws-us-gov': return 'console.amazonaws-us-gov.com';
    default: return `${region}.console.aws.amazon.com`;
  }
}
