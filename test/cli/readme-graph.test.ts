import { readFileSync } from 'fs';
import { join } from 'path';
import { ROOT } from './helpers';
import { deliveryGraph, toMermaid } from '../../lib/cli/graph';
import { renderPlan } from '../../lib/cli/plan-view';
import { DdkConfig } from '../../lib/config';
import { DeliveryPlan } from '../../lib/model';

test('the README shows the current delivery graph of the example ddk.json (regenerate with `ddk-pipelines graph -f mermaid`)', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf-8');
  const block = /### The delivery graph of the example `ddk.json`[\s\S]*?```mermaid\n([\s\S]*?)```/.exec(readme);
  expect(block).not.toBeNull();
  const plan = DeliveryPlan.fromConfig(DdkConfig.fromFile(join(ROOT, 'ddk.json')));
  expect(block![1].trim()).toBe(toMermaid(deliveryGraph(plan)).trim());
});

test('the README\'s release brackets section shows the delivery graph of its own foo ddk.json', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf-8');
  const section = /## Release brackets([\s\S]*?)\n## /.exec(readme)![1];
  const json = /```json\n([\s\S]*?)```/.exec(section)![1];
  const block = /### The delivery graph of the foo story[\s\S]*?```mermaid\n([\s\S]*?)```/.exec(section);
  expect(block).not.toBeNull();
  const plan = DeliveryPlan.fromConfig(DdkConfig.fromObject(JSON.parse(json), 'ddk.json'));
  expect(block![1].trim()).toBe(toMermaid(deliveryGraph(plan)).trim());
});

test('the README\'s deployment safety section shows the plan and delivery graph of its own example', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf-8');
  const section = /## Deployment safety([\s\S]*?)\n## /.exec(readme)![1];
  const json = /```json\n([\s\S]*?)```/.exec(section)![1];
  const plan = DeliveryPlan.fromConfig(DdkConfig.fromObject(JSON.parse(json), 'ddk.json'));
  const block = /### In `plan`, `graph` and `status`[\s\S]*?```mermaid\n([\s\S]*?)```/.exec(section);
  expect(block).not.toBeNull();
  expect(block![1].trim()).toBe(toMermaid(deliveryGraph(plan)).trim());
  const shown = /### In `plan`, `graph` and `status`[\s\S]*?```\n([\s\S]*?)```/.exec(section)![1].trim();
  expect(renderPlan(plan).trimEnd().endsWith(shown)).toBe(true);
});
