/** The pages' actions (docs/behaviour.md §7 "Actions"): the POST that runs a command, and the confirm page. */
import type { Router } from '../../http/router.js';
import { page, type WebContext } from '../context.js';
import { confirmPage } from './confirm-page.js';
import { actionRoute } from './post.js';

export function actionRoutes(router: Router, web: WebContext): void {
  router.add('POST', '/lines/:line/actions', actionRoute(web));
  router.add(
    'GET',
    '/lines/:line/confirm',
    page(web, (c) => confirmPage(web, c)),
  );
}
