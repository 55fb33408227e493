import type { AppOptions } from '../../src/app.js';
import { type DemoLineApp, startDemoLineApp } from './app-harness.js';
import { FakeJenkins } from './fake-jenkins.js';

/** The bearer token of the Jenkinsfile's callback (JENKINS_WEBHOOK_TOKEN). */
export const JENKINS_HOOK_TOKEN = 'jenkins-callback-token';

export interface JenkinsApp extends DemoLineApp {
  jenkins: FakeJenkins;
  /** Posts the Jenkinsfile's callback with `body`, authorised by `token` (default: the app's). */
  callback(body: unknown, token?: string): Promise<Response>;
}

/**
 * A strict fake Jenkins and the app with one line `web` built by its job
 * `web-build` and deployed by `web-deploy` (results polled every second).
 */
export async function startJenkinsApp(opts: {
  tmpPrefix: string;
  /** The build job's timeoutMinutes; without it, the config's default. */
  buildTimeoutMinutes?: number;
  app?: Partial<AppOptions>;
}): Promise<JenkinsApp> {
  const jenkins = await FakeJenkins.start({ jobs: ['web-build', 'web-deploy'] });
  try {
    const timeout = opts.buildTimeoutMinutes === undefined ? '' : `, timeoutMinutes: ${opts.buildTimeoutMinutes}`;
    const started = await startDemoLineApp({
      tmpPrefix: opts.tmpPrefix,
      env: { JENKINS_URL: jenkins.url, JENKINS_USER: jenkins.user, JENKINS_API_TOKEN: jenkins.token, JENKINS_WEBHOOK_TOKEN: JENKINS_HOOK_TOKEN },
      app: opts.app,
      conductorYml: (repo) => `
admins: [admin@example.com]
jenkins: { pollSeconds: 1 }
lines:
  - name: web
    repo: ${repo}
    pollSeconds: 3600
    build: { jenkins: web-build${timeout} }
    deploy: { jenkins: web-deploy }
`,
    });
    // The app's port at call time: after `t.restart()` the callback reaches the new process.
    const callback = (body: unknown, token = JENKINS_HOOK_TOKEN) =>
      fetch(`http://127.0.0.1:${started.t.app.port}/webhooks/jenkins`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    return { ...started, jenkins, callback };
  } catch (err) {
    // Nothing is returned, so the test's afterAll cannot stop this fake: stop it here.
    await jenkins.close();
    throw err;
  }
}
