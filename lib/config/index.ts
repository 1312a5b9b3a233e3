export * from './ddk-config';
export { ConfigIssue } from './issues';
