export * from './config-issue';
export * from './ddk-config';
