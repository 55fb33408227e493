/**
 * The demo line used when there is no config file at the default path: one
 * line on a local bare repository under the data directory, with shell jobs
 * and built-in tickets, so Conductor runs with no integration configured.
 */
import path from 'node:path';
import { WEEKDAYS } from '../domain/time.js';
import { DEFAULTS, type FileConfig } from './file.js';

export const DEMO_LINE_NAME = 'demo';
export const DEMO_ADMIN = 'admin@example.com';
export const DEMO_ROBOT = 'bot@example.com';

/** `<dataDir>/demo.git`: the bare repository the demo line watches (created and seeded elsewhere). */
export function demoRepoPath(dataDir: string): string {
  return path.join(path.resolve(dataDir), 'demo.git');
}

export function demoConfig(dataDir: string): FileConfig {
  const deploy = { kind: 'command', command: 'echo "deploying $SHA"; sleep 3; echo deployed', timeoutMinutes: 10 } as const;
  return {
    timezone: 'UTC',
    admins: [DEMO_ADMIN],
    robots: [DEMO_ROBOT],
    jenkins: { pollSeconds: DEFAULTS.jenkinsPollSeconds },
    jira: { pollSeconds: DEFAULTS.jiraPollSeconds, doneStatus: DEFAULTS.jiraDoneStatus },
    lines: [
      {
        name: DEMO_LINE_NAME,
        repo: demoRepoPath(dataDir),
        github: null,
        branch: 'main',
        channel: null,
        mode: 'schedule',
        timezone: 'UTC',
        autoTime: [{ days: [...WEEKDAYS], start: '00:00', end: '24:00' }],
        freeze: [],
        build: { kind: 'command', command: 'echo "building $SHA"; sleep 3; echo built', timeoutMinutes: 10 },
        deploy: { ...deploy },
        rollback: { ...deploy },
        tickets: { kind: 'builtin' },
        maxCommits: null,
        reminderMinutes: 30,
        bisect: true,
        bisectParallel: DEFAULTS.bisectParallel,
        // So a push to the demo repository is seen within seconds.
        pollSeconds: 5,
        healthCheck: null,
      },
    ],
  };
}
