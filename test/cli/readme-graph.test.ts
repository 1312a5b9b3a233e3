import { readFileSync } from 'fs';
import { join } from 'path';
import { ROOT } from './helpers';
import { deliveryGraph, toMermaid } from '../../lib/cli/graph';
import { DdkConfig } from '../../lib/config';
import { DeliveryPlan } from '../../lib/model';

test('the README shows the current delivery graph of the example ddk.json (regenerate with `ddk-pipelines graph -f mermaid`)', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf-8');
  const block = /### The delivery graph of the example `ddk.json`[\s\S]*?```mermaid\n([\s\S]*?)```/.exec(readme);
  expect(block).not.toBeNull();
  const plan = DeliveryPlan.fromConfig(DdkConfig.fromFile(join(ROOT, 'ddk.json')));
  expect(block![1].trim()).toBe(toMermaid(deliveryGraph(plan)).trim());
});
