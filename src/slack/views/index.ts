/** Block Kit views: pure functions of state, within Slack's limits. */
export { trainCard, STATE_EMOJI, type TrainCardOptions } from './train-card.js';
export { dmMessage, type DmOptions } from './dm.js';
export { homeView, type HomeData, type HomeLine, type HomeTrain } from './home.js';
export { confirmModal, confirmMetadata, describeConfirmation, MAX_LISTED_COMMITS, type ConfirmCommand, type ConfirmModalOptions } from './confirm.js';
export { LIMITS, escapeMrkdwn, threadReply, truncate } from './text.js';
