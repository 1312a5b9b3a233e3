export * from './config-issue';
export * from './ddk-config';
export * from './app-config';
