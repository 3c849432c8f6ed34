/** Deadlines, escalation, heartbeats and link health (issue 4). */
export * from './state.js';
export * from './clock.js';
export * from './tracker.js';
export * from './webhook.js';
export * from './watcher.js';
export * from './heartbeat.js';
export * from './cosigned.js';
export * from './compliance.js';
export * from './alerts.js';
