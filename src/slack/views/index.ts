/** Block Kit views: pure functions of state, within Slack's limits. */

export { type ConfirmCommand, type ConfirmModalOptions, confirmMetadata, confirmModal, describeConfirmation, MAX_LISTED_COMMITS } from './confirm.js';
export { type DmOptions, dmMessage } from './dm.js';
export { type HomeData, type HomeLine, type HomeTrain, homeView } from './home.js';
export { escapeMrkdwn, LIMITS, threadReply, truncate } from './text.js';
export { STATE_EMOJI, type TrainCardOptions, trainCard } from './train-card.js';
